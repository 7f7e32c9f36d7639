//! The BTF reader on the running kernel's `/sys/kernel/btf/vmlinux` (world
//! readable: no root needed; skipped with a reason on kernels built without
//! BTF): the tcp_sock counters tcplife reads exist where they can be, and
//! the long-stable `sock_common` layout comes out as the kernel headers
//! have it, anonymous unions and structs included.

use bpf::btf::{Btf, Member, VMLINUX};

fn kernel_or_skip(test: &str) -> Option<Btf> {
    if !std::path::Path::new(VMLINUX).exists() {
        eprintln!("{test}: skipped: no {VMLINUX} (kernel without CONFIG_DEBUG_INFO_BTF)");
        return None;
    }
    Some(Btf::kernel().expect("the kernel's BTF parses"))
}

#[test]
fn tcp_sock_byte_counters() {
    let Some(btf) = kernel_or_skip("tcp_sock_byte_counters") else {
        return;
    };
    assert!(btf.type_count() > 10_000, "{} types", btf.type_count());
    let sock = btf.member("sock", "__sk_common").expect("sock.__sk_common");
    assert_eq!(sock.offset, 0);
    // tcp_sock begins with inet_connection_sock, which begins with
    // inet_sock, which begins with sock: the counters come after all that.
    let icsk = btf
        .member("tcp_sock", "inet_conn")
        .expect("tcp_sock.inet_conn");
    assert_eq!(icsk.offset, 0);
    for name in ["bytes_received", "bytes_acked"] {
        let m = btf.member("tcp_sock", name).expect(name);
        eprintln!("tcp_sock.{name}: {m:?}");
        assert_eq!(m.size, 8, "{name} is a u64");
        assert_eq!(m.offset % 8, 0, "{name} is aligned");
        assert!(
            m.offset >= icsk.size && m.offset < 8192,
            "{name} at {} (inet_connection_sock is {} bytes)",
            m.offset,
            icsk.size
        );
    }
}

#[test]
fn sock_common_layout() {
    let Some(btf) = kernel_or_skip("sock_common_layout") else {
        return;
    };
    // include/net/sock.h: skc_daddr and skc_rcv_saddr sit in an anonymous
    // struct inside an anonymous union (with skc_addrpair); skc_dport and
    // skc_num likewise (with skc_portpair); then skc_family.
    let at = |name: &str| btf.member("sock_common", name).expect(name);
    assert_eq!(at("skc_addrpair"), Member { offset: 0, size: 8 });
    assert_eq!(at("skc_daddr"), Member { offset: 0, size: 4 });
    assert_eq!(at("skc_rcv_saddr"), Member { offset: 4, size: 4 });
    assert_eq!(
        at("skc_dport"),
        Member {
            offset: 12,
            size: 2
        }
    );
    assert_eq!(
        at("skc_num"),
        Member {
            offset: 14,
            size: 2
        }
    );
    assert_eq!(
        at("skc_family"),
        Member {
            offset: 16,
            size: 2
        }
    );
    let e = btf
        .member("sock_common", "no_such_member")
        .expect_err("absent");
    assert!(e.to_string().contains("no such member"), "{e}");
}

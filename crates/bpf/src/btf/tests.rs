//! The reader on hand-built BTF: every kind placed before the structs we
//! query (so a wrong skip length shows up as a wrong or missing member),
//! members inside anonymous structs and unions, sizes through typedefs,
//! modifiers and nested arrays, bitfields refused, malformed blobs rejected.

use super::*;

/// A raw BTF image under construction.
struct Blob {
    types: Vec<u8>,
    strings: Vec<u8>,
    next_id: u32,
}

impl Blob {
    fn new() -> Blob {
        Blob {
            types: Vec::new(),
            strings: vec![0],
            next_id: 1,
        }
    }

    fn str(&mut self, name: &str) -> u32 {
        if name.is_empty() {
            return 0;
        }
        let off = self.strings.len() as u32;
        self.strings.extend_from_slice(name.as_bytes());
        self.strings.push(0);
        off
    }

    /// Appends a type record and its extra words; its id.
    fn ty(&mut self, name: &str, kind: u32, flag: bool, size_or_type: u32, extra: &[u32]) -> u32 {
        let vlen = match kind {
            kind::STRUCT | kind::UNION | kind::DATASEC | kind::ENUM64 => extra.len() / 3,
            kind::ENUM | kind::FUNC_PROTO => extra.len() / 2,
            _ => 0,
        } as u32;
        let info = vlen | kind << 24 | u32::from(flag) << 31;
        let name_off = self.str(name);
        for word in [name_off, info, size_or_type].iter().chain(extra) {
            self.types.extend_from_slice(&word.to_le_bytes());
        }
        self.next_id += 1;
        self.next_id - 1
    }

    /// A struct or union; members as (name, type, bit offset word).
    fn record(
        &mut self,
        name: &str,
        kind: u32,
        flag: bool,
        size: u32,
        m: &[(&str, u32, u32)],
    ) -> u32 {
        let mut extra = Vec::new();
        for (member, type_id, offset) in m {
            extra.extend([self.str(member), *type_id, *offset]);
        }
        self.ty(name, kind, flag, size, &extra)
    }

    fn finish(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let header = [
            0x0001_eb9f_u32, // magic, version 1, flags 0
            HEADER_LEN as u32,
            0,
            self.types.len() as u32,
            self.types.len() as u32,
            self.strings.len() as u32,
        ];
        for word in header {
            out.extend_from_slice(&word.to_le_bytes());
        }
        out.extend_from_slice(&self.types);
        out.extend_from_slice(&self.strings);
        out
    }
}

/// Every kind, then `struct outer` with anonymous members.
fn sample() -> Blob {
    let mut b = Blob::new();
    let int = b.ty("int", kind::INT, false, 4, &[32]);
    let ull = b.ty("long long unsigned int", kind::INT, false, 8, &[64]);
    let ptr = b.ty("", kind::PTR, false, int, &[]);
    let int4 = b.ty("", kind::ARRAY, false, 0, &[int, int, 4]);
    let (one, two) = (b.str("ONE"), b.str("TWO"));
    b.ty("e", kind::ENUM, false, 4, &[one, 1, two, 2]);
    b.ty("fwd", kind::FWD, false, 0, &[]);
    let (x, y) = (b.str("x"), b.str("y"));
    let proto = b.ty("", kind::FUNC_PROTO, false, int, &[x, int, y, ptr]);
    let func = b.ty("f", kind::FUNC, false, proto, &[]);
    let var = b.ty("v", kind::VAR, false, int, &[1]);
    b.ty(".data", kind::DATASEC, false, 4, &[var, 0, 4]);
    b.ty("double", kind::FLOAT, false, 8, &[]);
    b.ty("tag", kind::DECL_TAG, false, func, &[u32::MAX]);
    b.ty("user", kind::TYPE_TAG, false, int, &[]);
    let big = b.str("BIG");
    b.ty("e64", kind::ENUM64, false, 8, &[big, 1, 2]);
    let vol = b.ty("", kind::VOLATILE, false, ull, &[]);
    b.ty("", kind::RESTRICT, false, ptr, &[]);
    let u64_ = b.ty("u64", kind::TYPEDEF, false, vol, &[]);
    let const_u64 = b.ty("", kind::CONST, false, u64_, &[]);
    let int4x2 = b.ty("", kind::ARRAY, false, 0, &[int4, int, 2]);
    let bit3 = b.ty("bit3", kind::INT, false, 4, &[3]);
    let pair = b.record("", kind::STRUCT, false, 8, &[("a", int, 0), ("b", int, 32)]);
    let anon = b.record(
        "",
        kind::UNION,
        false,
        8,
        &[("addr", const_u64, 0), ("", pair, 0)],
    );
    // A first `outer` without the members asked for: the second answers.
    b.record("outer", kind::STRUCT, false, 4, &[("other", int, 0)]);
    b.record(
        "outer",
        kind::STRUCT,
        true,
        64,
        &[
            ("head", int, 0),
            ("", anon, 64),
            ("tail", const_u64, 128),
            ("arr", int4x2, 192),
            ("flags", int, 448 | 3 << 24),
            ("old_bits", bit3, 480),
        ],
    );
    b
}

fn member(btf: &Btf, name: &str) -> Result<(u32, u32)> {
    btf.member("outer", name).map(|m| (m.offset, m.size))
}

#[test]
fn finds_members_through_anonymous_records() {
    let btf = Btf::parse("sample", sample().finish()).expect("parses");
    assert_eq!(btf.type_count(), 24);
    assert_eq!(member(&btf, "head").expect("head"), (0, 4));
    assert_eq!(member(&btf, "addr").expect("in the union"), (8, 8));
    assert_eq!(member(&btf, "b").expect("in the union's struct"), (12, 4));
    assert_eq!(member(&btf, "tail").expect("const typedef"), (16, 8));
    assert_eq!(member(&btf, "arr").expect("int[2][4]"), (24, 32));
    assert_eq!(member(&btf, "other").expect("first outer"), (0, 4));
}

#[test]
fn refuses_what_cannot_be_read() {
    let btf = Btf::parse("sample", sample().finish()).expect("parses");
    for (name, detail) in [
        ("flags", "bitfield"),
        ("old_bits", "bitfield"),
        ("nope", "no such member"),
    ] {
        let e = member(&btf, name).expect_err(name).to_string();
        assert!(e.contains(detail) && e.contains(name), "{e}");
    }
    let e = btf
        .member("absent", "x")
        .expect_err("no struct")
        .to_string();
    assert!(e.contains("no such struct"), "{e}");
}

#[test]
fn sizes() {
    let btf = Btf::parse("sample", sample().finish()).expect("parses");
    assert_eq!(btf.size_of(0), None, "void");
    assert_eq!(btf.size_of(3), Some(8), "pointer");
    assert_eq!(btf.size_of(4), Some(16), "int[4]");
    assert_eq!(btf.size_of(8), None, "function");
    assert_eq!(btf.size_of(9), Some(4), "variable of int");
    assert_eq!(btf.size_of(u32::MAX), None, "past the end");
}

#[test]
fn rejects_malformed_blobs() {
    let good = sample().finish();
    let err = |data: Vec<u8>| Btf::parse("bad", data).expect_err("bad").to_string();
    assert!(err(good[..10].to_vec()).contains("header"));
    let mut swapped = good.clone();
    swapped.swap(0, 1);
    assert!(err(swapped).contains("byte order"));
    let mut magic = good.clone();
    magic[0] = 0;
    assert!(err(magic).contains("magic"));
    assert!(err(good[..good.len() - 1].to_vec()).contains("past the end"));
    // The type section one byte short: the last record is cut off.
    let mut short = good.clone();
    short[12] -= 1;
    assert!(err(short).contains("past the type section"));
    // A kind we do not know stops the walk (its length is unknown).
    let mut b = Blob::new();
    b.ty("int", kind::INT, false, 4, &[32]);
    b.ty("new", 25, false, 0, &[]);
    assert!(err(b.finish()).contains("unknown kind 25"));
}

//! The raw `bpf(2)` system call and the parts of `union bpf_attr` we send,
//! as `repr(C)` structs laid out like the kernel's uapi header (checked by
//! size asserts below); the shared memory of a ring buffer map; `mount(2)`
//! for tracefs. Every `unsafe` block of the map and program side lives here.
//!
//! Callers above this file see safe functions: a map descriptor carries the
//! key and value lengths the kernel reads and writes ([`MapFd`]), and every
//! element command checks the buffers against them first. Policy (log
//! retries, friendly errors, per-CPU splitting) lives in `map.rs`/`prog.rs`.

use crate::cpus;
use crate::insn::{self, Insn};
use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// `enum bpf_cmd` values we use.
mod cmd {
    pub const MAP_CREATE: u32 = 0;
    pub const MAP_LOOKUP_ELEM: u32 = 1;
    pub const MAP_UPDATE_ELEM: u32 = 2;
    pub const MAP_DELETE_ELEM: u32 = 3;
    pub const MAP_GET_NEXT_KEY: u32 = 4;
    pub const PROG_LOAD: u32 = 5;
}

/// `BPF_OBJ_NAME_LEN`: names are at most 15 bytes plus NUL.
const OBJ_NAME_LEN: usize = 16;

/// Map types whose values come out as one slot per possible CPU
/// (PERCPU_HASH 5, PERCPU_ARRAY 6, LRU_PERCPU_HASH 10).
const PERCPU_MAP_TYPES: [u32; 3] = [5, 6, 10];

/// Times `BPF_PROG_LOAD` is retried on EAGAIN (what libbpf does too).
const EAGAIN_RETRIES: usize = 5;

/// The license every program is loaded under: GPL-only helpers
/// (probe_read_*, perf_event_output, get_stackid) require it.
const LICENSE: &[u8] = b"GPL\0";

/// `BPF_MAP_CREATE` (uapi: map_type ... btf_value_type_id).
#[repr(C)]
#[derive(Default)]
struct MapCreateAttr {
    map_type: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    map_flags: u32,
    inner_map_fd: u32,
    numa_node: u32,
    map_name: [u8; OBJ_NAME_LEN],
    map_ifindex: u32,
    btf_fd: u32,
    btf_key_type_id: u32,
    btf_value_type_id: u32,
}

/// `BPF_MAP_*_ELEM` and `BPF_MAP_GET_NEXT_KEY`: pointers as `__aligned_u64`.
#[repr(C)]
#[derive(Default)]
struct MapElemAttr {
    map_fd: u32,
    _pad: u32,
    key: u64,
    /// `value`, or `next_key` for GET_NEXT_KEY.
    value: u64,
    flags: u64,
}

/// `BPF_PROG_LOAD` up to `expected_attach_type`; the kernel zero-fills the
/// newer fields (BTF, line info, fd_array, ...) we do not pass.
#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; OBJ_NAME_LEN],
    prog_ifindex: u32,
    expected_attach_type: u32,
}

// The offsets of the uapi header, checked through the total sizes.
const _: () = assert!(std::mem::size_of::<MapCreateAttr>() == 60);
const _: () = assert!(std::mem::size_of::<MapElemAttr>() == 32);
const _: () = assert!(std::mem::size_of::<ProgLoadAttr>() == 72);
const _: () = assert!(std::mem::offset_of!(ProgLoadAttr, prog_name) == 48);

/// Calls `bpf(cmd, attr, sizeof attr)`; returns the non-negative result.
///
/// `attr` must be one of the attr structs above, filled for `cmd`, whose
/// pointers (if any) reference live buffers of the lengths the kernel will
/// use for that command; every caller in this file ensures it.
fn sys_bpf<T>(cmd: u32, attr: &mut T) -> io::Result<i64> {
    // SAFETY: `attr` is a repr(C) mirror of the bpf_attr member for `cmd`,
    // valid for `size_of::<T>()` bytes; the kernel zero-extends the rest. The
    // buffers it points to are borrowed by the caller for this call (see the
    // function's contract, upheld by each caller below).
    let rc = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd as libc::c_long,
            attr as *mut T,
            std::mem::size_of::<T>() as libc::c_long,
        )
    };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

/// Takes ownership of a descriptor the kernel just returned.
fn owned_fd(rc: i64) -> io::Result<OwnedFd> {
    let fd = i32::try_from(rc).map_err(|_| io::Error::other("bpf() returned no fd"))?;
    // SAFETY: `fd` was just created by bpf() (MAP_CREATE/PROG_LOAD return a
    // new O_CLOEXEC descriptor) and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A kernel object name: at most 15 bytes of `[A-Za-z0-9_.]` (the kernel
/// rejects anything else), other characters become `_`.
fn object_name(name: &str) -> [u8; OBJ_NAME_LEN] {
    let mut out = [0u8; OBJ_NAME_LEN];
    for (slot, b) in out.iter_mut().zip(name.bytes().take(OBJ_NAME_LEN - 1)) {
        *slot = if b.is_ascii_alphanumeric() || b == b'_' || b == b'.' {
            b
        } else {
            b'_'
        };
    }
    out
}

/// What `BPF_MAP_CREATE` needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MapParams<'a> {
    pub map_type: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub flags: u32,
    pub name: &'a str,
}

/// A map descriptor and the buffer lengths its element commands use: the key
/// size, and the value length user space sees (per-CPU maps: the value size
/// rounded up to 8, times the possible CPUs).
#[derive(Debug)]
pub(crate) struct MapFd {
    fd: OwnedFd,
    key_len: usize,
    value_len: usize,
}

impl MapFd {
    /// Creates a map.
    pub(crate) fn create(params: &MapParams) -> io::Result<MapFd> {
        let mut value_len = params.value_size as usize;
        if PERCPU_MAP_TYPES.contains(&params.map_type) {
            value_len = value_len.div_ceil(8) * 8 * cpus::possible()?.len();
        }
        let mut attr = MapCreateAttr {
            map_type: params.map_type,
            key_size: params.key_size,
            value_size: params.value_size,
            max_entries: params.max_entries,
            map_flags: params.flags,
            map_name: object_name(params.name),
            ..MapCreateAttr::default()
        };
        let fd = owned_fd(sys_bpf(cmd::MAP_CREATE, &mut attr)?)?;
        Ok(MapFd {
            fd,
            key_len: params.key_size as usize,
            value_len,
        })
    }

    /// Key bytes.
    pub(crate) fn key_len(&self) -> usize {
        self.key_len
    }

    /// Value bytes as user space reads and writes them.
    pub(crate) fn value_len(&self) -> usize {
        self.value_len
    }

    fn check(&self, key: &[u8], value_len: Option<usize>) -> io::Result<()> {
        let key_ok = key.len() == self.key_len;
        let value_ok = value_len.is_none_or(|len| len == self.value_len);
        if key_ok && value_ok {
            Ok(())
        } else {
            Err(io::Error::from_raw_os_error(libc::EINVAL))
        }
    }

    fn elem_attr(&self, key: *const u8, value: u64, flags: u64) -> MapElemAttr {
        MapElemAttr {
            map_fd: self.fd.as_raw_fd() as u32,
            key: key as u64,
            value,
            flags,
            ..MapElemAttr::default()
        }
    }

    /// Copies the value of `key` into `value`; false when absent.
    pub(crate) fn lookup(&self, key: &[u8], value: &mut [u8]) -> io::Result<bool> {
        self.check(key, Some(value.len()))?;
        // The kernel reads key_len bytes of `key` and writes value_len bytes
        // into `value`; both lengths were checked above.
        let mut attr = self.elem_attr(key.as_ptr(), value.as_mut_ptr() as u64, 0);
        absent_is_false(sys_bpf(cmd::MAP_LOOKUP_ELEM, &mut attr))
    }

    /// Sets `key` to `value` (`flags`: BPF_ANY 0, NOEXIST 1, EXIST 2).
    pub(crate) fn update(&self, key: &[u8], value: &[u8], flags: u64) -> io::Result<()> {
        self.check(key, Some(value.len()))?;
        // The kernel reads key_len and value_len bytes; both checked above.
        let mut attr = self.elem_attr(key.as_ptr(), value.as_ptr() as u64, flags);
        sys_bpf(cmd::MAP_UPDATE_ELEM, &mut attr).map(drop)
    }

    /// Deletes `key`; false when it was absent.
    pub(crate) fn delete(&self, key: &[u8]) -> io::Result<bool> {
        self.check(key, None)?;
        // The kernel reads key_len bytes of `key`, checked above.
        let mut attr = self.elem_attr(key.as_ptr(), 0, 0);
        absent_is_false(sys_bpf(cmd::MAP_DELETE_ELEM, &mut attr))
    }

    /// Writes the key after `key` (the first key for `None`) into `next`;
    /// false at the end.
    pub(crate) fn next_key(&self, key: Option<&[u8]>, next: &mut [u8]) -> io::Result<bool> {
        self.check(next, None)?;
        if let Some(key) = key {
            self.check(key, None)?;
        }
        let key_ptr = key.map_or(std::ptr::null(), <[u8]>::as_ptr);
        // The kernel reads key_len bytes of `key` (none for NULL) and writes
        // key_len bytes into `next`; both lengths checked above.
        let mut attr = self.elem_attr(key_ptr, next.as_mut_ptr() as u64, 0);
        absent_is_false(sys_bpf(cmd::MAP_GET_NEXT_KEY, &mut attr))
    }
}

impl AsFd for MapFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

fn absent_is_false(rc: io::Result<i64>) -> io::Result<bool> {
    match rc {
        Ok(_) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Loads a program. With `log` the verifier writes its level-`log_level`
/// log there (NUL-terminated); ENOSPC means the log did not fit.
pub(crate) fn prog_load(
    prog_type: u32,
    name: &str,
    insns: &[Insn],
    log: Option<(&mut [u8], u32)>,
) -> io::Result<OwnedFd> {
    let image = insn::encode(insns);
    let insn_cnt =
        u32::try_from(insns.len()).map_err(|_| io::Error::from_raw_os_error(libc::E2BIG))?;
    let (log_buf, log_size, log_level) = match log {
        Some((buf, level)) => {
            let size =
                u32::try_from(buf.len()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
            (buf.as_mut_ptr() as u64, size, level)
        }
        None => (0, 0, 0),
    };
    let mut attr = ProgLoadAttr {
        prog_type,
        insn_cnt,
        // `image` holds insn_cnt * 8 bytes; LICENSE is NUL-terminated; the
        // log buffer is log_size bytes; all outlive the call.
        insns: image.as_ptr() as u64,
        license: LICENSE.as_ptr() as u64,
        log_level,
        log_size,
        log_buf,
        prog_name: object_name(name),
        ..ProgLoadAttr::default()
    };
    let mut tries = 0;
    loop {
        match sys_bpf(cmd::PROG_LOAD, &mut attr) {
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) && tries < EAGAIN_RETRIES => {
                tries += 1
            }
            rc => return owned_fd(rc?),
        }
    }
}

/// A BPF ring buffer's shared memory: the consumer page (read-write), then
/// the producer page followed by the data area mapped twice in a row
/// (read-only), so a record that wraps around reads as one run of bytes.
#[derive(Debug)]
pub(crate) struct RingMmap {
    consumer: *mut u8,
    producer: *mut u8,
    page_size: usize,
    data_size: usize,
}

// SAFETY: the mappings belong to this value alone; the kernel side is
// synchronised through the atomic positions, whatever thread reads them.
unsafe impl Send for RingMmap {}

impl RingMmap {
    /// Maps the ring of `fd`, whose data area is `data_size` bytes (the
    /// map's `max_entries`: a power of two, a multiple of the page size).
    pub(crate) fn new(fd: BorrowedFd, data_size: usize) -> io::Result<RingMmap> {
        // SAFETY: sysconf has no preconditions.
        let page_size = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) })
            .map_err(|_| io::Error::other("no page size"))?;
        if !data_size.is_power_of_two() || !data_size.is_multiple_of(page_size) {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        let fd = fd.as_raw_fd();
        // SAFETY: a fresh shared mapping of the map's consumer page at offset
        // 0; the kernel checks the length and protection.
        let consumer = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                page_size,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd,
                0,
            )
        };
        if consumer == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: as above for the producer page plus the doubled data area,
        // which the kernel maps read-only at offset one page.
        let producer = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                page_size + 2 * data_size,
                libc::PROT_READ,
                libc::MAP_SHARED,
                fd,
                page_size as libc::off_t,
            )
        };
        if producer == libc::MAP_FAILED {
            let err = io::Error::last_os_error();
            // SAFETY: unmapping the consumer page mapped just above.
            unsafe { libc::munmap(consumer, page_size) };
            return Err(err);
        }
        Ok(RingMmap {
            consumer: consumer.cast(),
            producer: producer.cast(),
            page_size,
            data_size,
        })
    }

    /// How far user space has read.
    pub(crate) fn consumer_pos(&self) -> u64 {
        // SAFETY: the consumer page starts with an 8-byte aligned u64 that
        // the kernel reads concurrently; it stays mapped while `self` lives.
        unsafe { AtomicU64::from_ptr(self.consumer.cast()) }.load(Ordering::Acquire)
    }

    /// Publishes how far user space has read (frees the space).
    pub(crate) fn set_consumer_pos(&mut self, pos: u64) {
        // SAFETY: as in `consumer_pos`; the page is mapped writable.
        unsafe { AtomicU64::from_ptr(self.consumer.cast()) }.store(pos, Ordering::Release);
    }

    /// How far the kernel has reserved.
    pub(crate) fn producer_pos(&self) -> u64 {
        // SAFETY: the producer page starts with an aligned u64 the kernel
        // writes concurrently; it stays mapped while `self` lives.
        unsafe { AtomicU64::from_ptr(self.producer.cast()) }.load(Ordering::Acquire)
    }

    /// The 4-byte length word of the record header at `pos` (busy and
    /// discard flags in its top bits).
    pub(crate) fn header(&self, pos: u64) -> u32 {
        let at = self.page_size + (pos as usize & (self.data_size - 1));
        // SAFETY: `at` is 8-byte aligned (records are) and inside the first
        // copy of the data area; the kernel commits it with a release store.
        unsafe { AtomicU32::from_ptr(self.producer.add(at).cast()) }.load(Ordering::Acquire)
    }

    /// Copies the `len` bytes after the header at `pos` into `out`.
    pub(crate) fn read_record(&self, pos: u64, len: usize, out: &mut Vec<u8>) -> io::Result<()> {
        if len + 8 > self.data_size {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        let at = self.page_size + (pos as usize & (self.data_size - 1)) + 8;
        out.clear();
        out.reserve(len);
        // SAFETY: `at + len` < page + 2 * data_size (the offset is below one
        // data size, `len` too), inside the read-only mapping; the record is
        // committed and stays put until the consumer position passes it.
        unsafe {
            std::ptr::copy_nonoverlapping(self.producer.add(at), out.as_mut_ptr(), len);
            out.set_len(len);
        }
        Ok(())
    }
}

impl Drop for RingMmap {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly the two mappings made in `new`.
        unsafe {
            libc::munmap(self.consumer.cast(), self.page_size);
            libc::munmap(self.producer.cast(), self.page_size + 2 * self.data_size);
        }
    }
}

/// Waits up to `timeout_ms` for `fd` to become readable.
pub(crate) fn poll_readable(fd: BorrowedFd, timeout_ms: i32) -> io::Result<bool> {
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd for the duration of the call.
    let rc = unsafe { libc::poll(&mut pfd, 1, timeout_ms) };
    match rc {
        rc if rc < 0 => {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                Ok(false)
            } else {
                Err(err)
            }
        }
        0 => Ok(false),
        _ => Ok(true),
    }
}

/// `mount -t tracefs tracefs <target>`.
pub(crate) fn mount_tracefs(target: &str) -> io::Result<()> {
    let source = CString::new("tracefs")?;
    let target = CString::new(target)?;
    // SAFETY: all three are valid NUL-terminated strings that outlive the
    // call; tracefs takes no mount data, so NULL is allowed.
    let rc = unsafe {
        libc::mount(
            source.as_ptr(),
            target.as_ptr(),
            source.as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_are_truncated_and_sanitised() {
        assert_eq!(&object_name("count")[..6], b"count\0");
        let long = object_name("a_very_long_map_name_indeed");
        assert_eq!(&long[..15], b"a_very_long_map");
        assert_eq!(long[15], 0);
        assert_eq!(&object_name("@x[1]")[..6], b"_x_1_\0");
    }
}

//! A perf ring buffer: the mmap'd metadata page plus 2^n data pages, read
//! from `data_tail` to `data_head` with the barriers the kernel ABI asks for.
//!
//! Records that wrap around the end of the buffer are copied into a scratch
//! buffer so the parser always sees one contiguous slice.

use perf_event_open_sys::bindings::perf_event_mmap_page;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{fence, Ordering};

/// Size of `struct perf_event_header`.
const HEADER_LEN: usize = 8;

/// One mapped ring buffer (owns the event fd it was mapped from).
pub struct RingBuffer {
    fd: OwnedFd,
    base: *mut u8,
    map_len: usize,
    data_offset: usize,
    data_size: usize,
    scratch: Vec<u8>,
}

// SAFETY: the mapping is owned by this value and only accessed through &mut self.
unsafe impl Send for RingBuffer {}

impl std::fmt::Debug for RingBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RingBuffer")
            .field("fd", &self.fd.as_raw_fd())
            .field("data_size", &self.data_size)
            .finish()
    }
}

impl RingBuffer {
    /// Maps `1 + data_pages` pages of `fd` (`data_pages` must be a power of
    /// two). On failure the fd is handed back so the caller can retry smaller.
    pub fn map(fd: OwnedFd, data_pages: usize) -> Result<Self, (OwnedFd, io::Error)> {
        let page = page_size();
        let map_len = page * (data_pages + 1);
        // SAFETY: mapping a perf event fd shared read-write is how the ABI works;
        // the result is checked against MAP_FAILED.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err((fd, io::Error::last_os_error()));
        }
        let meta = base as *const perf_event_mmap_page;
        // SAFETY: the first page is the metadata page; data_offset/size are set by
        // the kernel at mmap time (kernels before 4.1 leave them 0: use defaults).
        let (mut data_offset, mut data_size) =
            unsafe { ((*meta).data_offset as usize, (*meta).data_size as usize) };
        if data_size == 0 {
            data_offset = page;
            data_size = page * data_pages;
        }
        Ok(Self {
            fd,
            base: base.cast(),
            map_len,
            data_offset,
            data_size,
            scratch: Vec::new(),
        })
    }

    /// The event fd behind this buffer (for poll and SET_OUTPUT).
    pub fn fd(&self) -> &OwnedFd {
        &self.fd
    }

    /// Calls `f` with every complete record now in the buffer (header
    /// included), then releases the space to the kernel.
    pub fn drain(&mut self, mut f: impl FnMut(&[u8])) {
        let meta = self.base as *mut perf_event_mmap_page;
        // SAFETY: data_head is written by the kernel; read it volatile, then an
        // acquire fence orders the data reads after it (perf_event.h's rule).
        let head = unsafe { std::ptr::addr_of!((*meta).data_head).read_volatile() };
        fence(Ordering::Acquire);
        // SAFETY: data_tail is only written by us.
        let mut tail = unsafe { std::ptr::addr_of!((*meta).data_tail).read_volatile() };
        let size = self.data_size as u64;
        // SAFETY: data_offset..data_offset+data_size lies inside the mapping.
        let data =
            unsafe { std::slice::from_raw_parts(self.base.add(self.data_offset), self.data_size) };
        while head.wrapping_sub(tail) >= HEADER_LEN as u64 {
            let start = (tail % size) as usize;
            let mut header = [0u8; HEADER_LEN];
            copy_wrapped(data, start, &mut header);
            let len = u16::from_ne_bytes([header[6], header[7]]) as usize;
            if len < HEADER_LEN || head.wrapping_sub(tail) < len as u64 {
                break; // corrupt or partially written: stop, retry next drain
            }
            if start + len <= data.len() {
                f(&data[start..start + len]);
            } else {
                self.scratch.resize(len, 0);
                copy_wrapped(data, start, &mut self.scratch);
                f(&self.scratch);
            }
            tail = tail.wrapping_add(len as u64);
        }
        // Release: our reads of the data happen before the kernel may overwrite it.
        fence(Ordering::Release);
        // SAFETY: data_tail is ours to write.
        unsafe { std::ptr::addr_of_mut!((*meta).data_tail).write_volatile(tail) };
    }
}

/// Copies `out.len()` bytes starting at `start`, wrapping at the end of `data`.
fn copy_wrapped(data: &[u8], start: usize, out: &mut [u8]) {
    let first = out.len().min(data.len() - start);
    out[..first].copy_from_slice(&data[start..start + first]);
    let rest = out.len() - first;
    out[first..].copy_from_slice(&data[..rest]);
}

impl Drop for RingBuffer {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly what `map` mapped.
        unsafe { libc::munmap(self.base.cast(), self.map_len) };
    }
}

/// The system page size.
pub fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if n > 0 {
        n as usize
    } else {
        4096
    }
}

#[cfg(test)]
mod tests {
    use super::copy_wrapped;

    #[test]
    fn wrapped_copy() {
        let data = [1u8, 2, 3, 4, 5, 6];
        let mut out = [0u8; 4];
        copy_wrapped(&data, 4, &mut out);
        assert_eq!(out, [5, 6, 1, 2]);
        copy_wrapped(&data, 1, &mut out);
        assert_eq!(out, [2, 3, 4, 5]);
    }
}

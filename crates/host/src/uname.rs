//! The uname collector: `node_uname_info{sysname,release,version,machine,
//! nodename,domainname} 1` from uname(2), and the host name the agent uses for
//! its `instance` label.

use crate::{CollectError, Family, Kind};
use std::ffi::CStr;

/// uname(2)'s fields.
struct Utsname {
    sysname: String,
    nodename: String,
    release: String,
    version: String,
    machine: String,
    domainname: String,
}

fn uname() -> Result<Utsname, CollectError> {
    // SAFETY: utsname is plain old data; uname(2) fills it or fails.
    let mut buf: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: buf is a valid, writable utsname.
    if unsafe { libc::uname(&mut buf) } != 0 {
        return Err(CollectError::Read {
            path: "uname(2)".into(),
            source: std::io::Error::last_os_error(),
        });
    }
    let field = |chars: &[libc::c_char]| -> String {
        // SAFETY: the kernel NUL-terminates each field within its array; the
        // slice is turned into bytes of the same length.
        let bytes: &[u8] =
            unsafe { std::slice::from_raw_parts(chars.as_ptr().cast(), chars.len()) };
        CStr::from_bytes_until_nul(bytes)
            .map(|c| c.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    Ok(Utsname {
        sysname: field(&buf.sysname),
        nodename: field(&buf.nodename),
        release: field(&buf.release),
        version: field(&buf.version),
        machine: field(&buf.machine),
        domainname: field(&buf.domainname),
    })
}

/// The host name (uname's nodename), or "localhost" when uname(2) fails.
pub fn hostname() -> String {
    uname().map_or_else(|_| "localhost".to_string(), |u| u.nodename)
}

pub(crate) fn collect(out: &mut Vec<Family>) -> Result<(), CollectError> {
    let u = uname()?;
    let mut info = Family::new(
        "node_uname_info",
        "Labeled system information as provided by the uname system call.",
        Kind::Gauge,
    );
    info.push(
        vec![
            ("domainname", u.domainname),
            ("machine", u.machine),
            ("nodename", u.nodename),
            ("release", u.release),
            ("sysname", u.sysname),
            ("version", u.version),
        ],
        1.0,
    );
    out.push(info);
    Ok(())
}

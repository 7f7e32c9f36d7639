//! Decodes the perf records of our ring buffers into [`Event`]s.
//!
//! Hand-written because the layout is fixed by the `sample_type` we request
//! (see `attr.rs`) and the record kinds we enable; the general readers
//! (linux-perf-event-reader, linux-perf-data) are built around perf.data
//! files and would need a synthesized attr section for every event.
//! Anything malformed is skipped and counted, never trusted.

use super::attr::USER_REGS_MASK;
use crate::event::{Event, MmapEvent, RawSample, SampleKind, UserRegs};
use perf_event_open_sys::bindings as b;
use std::collections::HashMap;

/// PERF_CONTEXT_* markers are the top 4095 values of u64.
const PERF_CONTEXT_MAX: u64 = -4095i64 as u64;
/// Marker before user frames.
const PERF_CONTEXT_USER: u64 = -512i64 as u64;
/// MMAP2 carries a build id instead of device/inode (kernel ≥ 5.12).
const MISC_MMAP_BUILD_ID: u16 = 1 << 14;
/// COMM record caused by exec.
const MISC_COMM_EXEC: u16 = 1 << 13;
/// SWITCH record describes a switch out.
const MISC_SWITCH_OUT: u16 = 1 << 13;
/// Length of the sample_id trailer for IDENTIFIER|TID|TIME|CPU.
const SAMPLE_ID_LEN: usize = 32;

/// What an event id stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The on-CPU sampling event.
    OnCpu,
    /// The sched_switch tracepoint.
    Switch,
}

/// Where `prev_state` sits in the sched_switch raw data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrevStateField {
    /// Byte offset inside the raw data.
    pub offset: usize,
    /// 4 or 8 bytes.
    pub size: usize,
}

/// Decoder state: event ids and the tracepoint layout.
#[derive(Debug, Default)]
pub struct Decoder {
    roles: HashMap<u64, Role>,
    prev_state: Option<PrevStateField>,
    /// Records that could not be decoded.
    pub malformed: u64,
}

/// A little-endian cursor that never panics.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }
    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    fn u64(&mut self) -> Option<u64> {
        self.bytes(8)
            .and_then(|s| s.try_into().ok())
            .map(u64::from_ne_bytes)
    }
    fn u32(&mut self) -> Option<u32> {
        self.bytes(4)
            .and_then(|s| s.try_into().ok())
            .map(u32::from_ne_bytes)
    }
}

/// The sample_id trailer of a non-sample record.
#[derive(Debug, Clone, Copy, Default)]
struct SampleId {
    pid: u32,
    tid: u32,
    time: u64,
}

impl Decoder {
    /// A decoder knowing the sched_switch layout (when off-CPU is recorded).
    pub fn new(prev_state: Option<PrevStateField>) -> Self {
        Self {
            prev_state,
            ..Self::default()
        }
    }

    /// Registers the id of an opened event.
    pub fn add_event(&mut self, id: u64, role: Role) {
        self.roles.insert(id, role);
    }

    /// Decodes one record (header included). `None` for records we do not use.
    pub fn decode(&mut self, record: &[u8]) -> Option<Event> {
        let event = self.decode_inner(record);
        if event.is_none() && record.len() >= 8 {
            let kind = u32::from_ne_bytes([record[0], record[1], record[2], record[3]]);
            if matches!(
                kind,
                b::PERF_RECORD_SAMPLE | b::PERF_RECORD_MMAP2 | b::PERF_RECORD_COMM
            ) {
                self.malformed += 1;
            }
        }
        event
    }

    fn decode_inner(&self, record: &[u8]) -> Option<Event> {
        let mut c = Cursor::new(record);
        let kind = c.u32()?;
        let misc = c.bytes(2).map(|s| u16::from_ne_bytes([s[0], s[1]]))?;
        let _len = c.bytes(2)?;
        let body = &record[8..];
        match kind {
            b::PERF_RECORD_SAMPLE => self.sample(body),
            b::PERF_RECORD_MMAP2 => mmap2(body, misc),
            b::PERF_RECORD_COMM => {
                let id = sample_id(body)?;
                let mut c = Cursor::new(body);
                let pid = c.u32()?;
                let tid = c.u32()?;
                let name = c_string(body.get(8..body.len().checked_sub(SAMPLE_ID_LEN)?)?);
                Some(Event::Comm {
                    pid,
                    tid,
                    name,
                    exec: misc & MISC_COMM_EXEC != 0,
                    time_ns: id.time,
                })
            }
            b::PERF_RECORD_FORK | b::PERF_RECORD_EXIT => {
                let mut c = Cursor::new(body);
                let (pid, ppid, tid, ptid, time_ns) =
                    (c.u32()?, c.u32()?, c.u32()?, c.u32()?, c.u64()?);
                Some(if kind == b::PERF_RECORD_FORK {
                    Event::Fork {
                        pid,
                        ppid,
                        tid,
                        ptid,
                        time_ns,
                    }
                } else {
                    Event::Exit { pid, tid, time_ns }
                })
            }
            b::PERF_RECORD_SWITCH | b::PERF_RECORD_SWITCH_CPU_WIDE => {
                if misc & MISC_SWITCH_OUT != 0 {
                    return None;
                }
                // The sample_id of a switch-in names the task switched in.
                let id = sample_id(body)?;
                Some(Event::SwitchIn {
                    pid: id.pid,
                    tid: id.tid,
                    time_ns: id.time,
                })
            }
            b::PERF_RECORD_LOST => {
                let mut c = Cursor::new(body);
                let _id = c.u64()?;
                Some(Event::Lost { count: c.u64()? })
            }
            b::PERF_RECORD_LOST_SAMPLES => Some(Event::Lost {
                count: Cursor::new(body).u64()?,
            }),
            _ => None,
        }
    }

    fn sample(&self, body: &[u8]) -> Option<Event> {
        let mut c = Cursor::new(body);
        let id = c.u64()?;
        let role = *self.roles.get(&id)?;
        let _ip = c.u64()?;
        let pid = c.u32()?;
        let tid = c.u32()?;
        let time_ns = c.u64()?;
        let cpu = c.u32()?;
        let _res = c.u32()?;
        let period = c.u64()?;
        let nr = c.u64()?;
        if nr > 4096 {
            return None;
        }
        let mut kernel_ips = Vec::new();
        let mut user_ips = Vec::new();
        let mut in_user = false;
        for _ in 0..nr {
            let ip = c.u64()?;
            if ip >= PERF_CONTEXT_MAX {
                // Frames after the USER marker are user frames; any other marker
                // (KERNEL, HV, GUEST…) starts non-user frames.
                in_user = ip == PERF_CONTEXT_USER;
                continue;
            }
            if in_user {
                user_ips.push(ip);
            } else {
                kernel_ips.push(ip);
            }
        }
        let mut kind = SampleKind::OnCpu;
        if role == Role::Switch {
            let size = c.u32()? as usize;
            let raw = c.bytes(size)?;
            let prev_state = self
                .prev_state
                .and_then(|f| {
                    let s = raw.get(f.offset..f.offset + f.size)?;
                    Some(match f.size {
                        8 => i64::from_ne_bytes(s.try_into().ok()?),
                        4 => i64::from(i32::from_ne_bytes(s.try_into().ok()?)),
                        _ => return None,
                    })
                })
                .unwrap_or(1);
            kind = SampleKind::SwitchOut { prev_state };
        }
        let abi = c.u64()?;
        let user_regs = if abi != 0 {
            let n = USER_REGS_MASK.count_ones() as usize;
            let mut regs = [0u64; 3];
            for r in regs.iter_mut().take(n) {
                *r = c.u64()?;
            }
            // Registers come in bit order: bp (6), sp (7), ip (8).
            Some(UserRegs {
                bp: regs[0],
                sp: regs[1],
                ip: regs[2],
            })
        } else {
            None
        };
        let stack_size = c.u64()? as usize;
        let mut user_stack = Vec::new();
        if stack_size != 0 {
            let data = c.bytes(stack_size)?;
            let dyn_size = (c.u64()? as usize).min(stack_size);
            user_stack.extend_from_slice(&data[..dyn_size]);
        }
        Some(Event::Sample(RawSample {
            kind,
            pid,
            tid,
            time_ns,
            cpu,
            period,
            kernel_ips,
            user_ips,
            user_regs,
            user_stack,
        }))
    }
}

fn sample_id(body: &[u8]) -> Option<SampleId> {
    let start = body.len().checked_sub(SAMPLE_ID_LEN)?;
    let mut c = Cursor::new(&body[start..]);
    Some(SampleId {
        pid: c.u32()?,
        tid: c.u32()?,
        time: c.u64()?,
    })
}

fn mmap2(body: &[u8], misc: u16) -> Option<Event> {
    let id = sample_id(body)?;
    let mut c = Cursor::new(body);
    let pid = c.u32()?;
    let tid = c.u32()?;
    let start = c.u64()?;
    let len = c.u64()?;
    let file_offset = c.u64()?;
    let ids = c.bytes(24)?;
    let prot = c.u32()?;
    let _flags = c.u32()?;
    let name_end = body.len().checked_sub(SAMPLE_ID_LEN)?;
    let path = c_string(body.get(c.pos..name_end)?);
    let build_id = if misc & MISC_MMAP_BUILD_ID != 0 {
        let n = (ids[0] as usize).min(20);
        Some(ids[4..4 + n].to_vec()).filter(|v| !v.is_empty())
    } else {
        None
    };
    Some(Event::Mmap(MmapEvent {
        pid,
        tid,
        start,
        len,
        file_offset,
        path,
        executable: prot & libc::PROT_EXEC as u32 != 0,
        build_id,
        time_ns: id.time,
    }))
}

/// A NUL-terminated (and NUL-padded) string.
fn c_string(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// The time of an event, for ordering events of different ring buffers.
pub fn time_of(event: &Event) -> u64 {
    match event {
        Event::Sample(s) => s.time_ns,
        Event::Mmap(m) => m.time_ns,
        Event::Comm { time_ns, .. }
        | Event::Fork { time_ns, .. }
        | Event::Exit { time_ns, .. }
        | Event::SwitchIn { time_ns, .. } => *time_ns,
        Event::Lost { .. } => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Marker before kernel frames.
    const PERF_CONTEXT_KERNEL: u64 = -128i64 as u64;

    fn record(kind: u32, misc: u16, body: &[u8]) -> Vec<u8> {
        let mut r = Vec::new();
        r.extend_from_slice(&kind.to_ne_bytes());
        r.extend_from_slice(&misc.to_ne_bytes());
        r.extend_from_slice(&((body.len() + 8) as u16).to_ne_bytes());
        r.extend_from_slice(body);
        r
    }

    fn trailer(pid: u32, tid: u32, time: u64) -> Vec<u8> {
        let mut t = Vec::new();
        for v in [pid, tid] {
            t.extend_from_slice(&v.to_ne_bytes());
        }
        t.extend_from_slice(&time.to_ne_bytes());
        t.extend_from_slice(&[0u8; 8]); // cpu, res
        t.extend_from_slice(&7u64.to_ne_bytes()); // identifier
        t
    }

    fn sample_body(id: u64, raw: Option<&[u8]>) -> Vec<u8> {
        let mut s = Vec::new();
        let u64s = |s: &mut Vec<u8>, v: &[u64]| {
            v.iter().for_each(|x| s.extend_from_slice(&x.to_ne_bytes()))
        };
        u64s(&mut s, &[id, 0x1000]);
        s.extend_from_slice(&10u32.to_ne_bytes());
        s.extend_from_slice(&11u32.to_ne_bytes());
        u64s(&mut s, &[5000]); // time
        s.extend_from_slice(&1u32.to_ne_bytes());
        s.extend_from_slice(&0u32.to_ne_bytes());
        u64s(&mut s, &[1_000_000]); // period
        u64s(
            &mut s,
            &[
                5,
                PERF_CONTEXT_KERNEL,
                0xffff_0001,
                PERF_CONTEXT_USER,
                0x1000,
                0x2000,
            ],
        );
        if let Some(raw) = raw {
            s.extend_from_slice(&(raw.len() as u32).to_ne_bytes());
            s.extend_from_slice(raw);
        }
        u64s(&mut s, &[2, 0x7f00, 0x7ff0, 0x1000]); // abi, bp, sp, ip
        u64s(&mut s, &[16]);
        s.extend_from_slice(&[9u8; 16]);
        u64s(&mut s, &[12]); // dyn_size
        s
    }

    #[test]
    fn decodes_on_cpu_sample() {
        let mut d = Decoder::new(None);
        d.add_event(42, Role::OnCpu);
        let Some(Event::Sample(s)) =
            d.decode(&record(b::PERF_RECORD_SAMPLE, 0, &sample_body(42, None)))
        else {
            panic!("not a sample");
        };
        assert_eq!(
            (s.pid, s.tid, s.time_ns, s.cpu, s.period),
            (10, 11, 5000, 1, 1_000_000)
        );
        assert_eq!(s.kernel_ips, vec![0xffff_0001]);
        assert_eq!(s.user_ips, vec![0x1000, 0x2000]);
        assert_eq!(
            s.user_regs,
            Some(UserRegs {
                ip: 0x1000,
                sp: 0x7ff0,
                bp: 0x7f00
            })
        );
        assert_eq!(s.user_stack.len(), 12);
        assert_eq!(s.kind, SampleKind::OnCpu);
    }

    #[test]
    fn decodes_switch_sample_prev_state() {
        let mut d = Decoder::new(Some(PrevStateField { offset: 4, size: 8 }));
        d.add_event(43, Role::Switch);
        let mut raw = vec![0u8; 4];
        raw.extend_from_slice(&2i64.to_ne_bytes());
        raw.extend_from_slice(&[0u8; 4]);
        let Some(Event::Sample(s)) = d.decode(&record(
            b::PERF_RECORD_SAMPLE,
            0,
            &sample_body(43, Some(&raw)),
        )) else {
            panic!("not a sample");
        };
        assert_eq!(s.kind, SampleKind::SwitchOut { prev_state: 2 });
    }

    #[test]
    fn unknown_id_and_truncation_are_skipped() {
        let mut d = Decoder::new(None);
        d.add_event(42, Role::OnCpu);
        assert!(d
            .decode(&record(b::PERF_RECORD_SAMPLE, 0, &sample_body(99, None)))
            .is_none());
        let body = sample_body(42, None);
        for cut in [0, 7, 30, body.len() - 1] {
            assert!(d
                .decode(&record(b::PERF_RECORD_SAMPLE, 0, &body[..cut]))
                .is_none());
        }
        assert!(d.decode(&[1, 2, 3]).is_none());
        // Found by fuzzing: a COMM record shorter than its sample_id trailer.
        let mut short = record(b::PERF_RECORD_COMM, 0, &[0u8; 8]);
        short.extend_from_slice(&[0x64; 24]);
        let _ = d.decode(&short); // must not panic
    }

    #[test]
    fn decodes_mmap2_comm_switch() {
        let mut d = Decoder::new(None);
        let mut body = Vec::new();
        for v in [10u32, 11] {
            body.extend_from_slice(&v.to_ne_bytes());
        }
        for v in [0x40_0000u64, 0x1000, 0x2000] {
            body.extend_from_slice(&v.to_ne_bytes());
        }
        let mut ids = [0u8; 24];
        ids[0] = 3;
        ids[4..7].copy_from_slice(&[0xab, 0xcd, 0xef]);
        body.extend_from_slice(&ids);
        body.extend_from_slice(&5u32.to_ne_bytes()); // PROT_READ|PROT_EXEC
        body.extend_from_slice(&0u32.to_ne_bytes());
        body.extend_from_slice(b"/bin/x\0\0");
        body.extend_from_slice(&trailer(10, 11, 77));
        let Some(Event::Mmap(m)) =
            d.decode(&record(b::PERF_RECORD_MMAP2, MISC_MMAP_BUILD_ID, &body))
        else {
            panic!("not mmap");
        };
        assert_eq!(m.path, "/bin/x");
        assert!(m.executable);
        assert_eq!(m.build_id, Some(vec![0xab, 0xcd, 0xef]));
        assert_eq!(
            (m.start, m.len, m.file_offset, m.time_ns),
            (0x40_0000, 0x1000, 0x2000, 77)
        );

        let mut body = Vec::new();
        for v in [10u32, 10] {
            body.extend_from_slice(&v.to_ne_bytes());
        }
        body.extend_from_slice(b"workload\0\0\0\0\0\0\0\0");
        body.extend_from_slice(&trailer(10, 10, 78));
        assert_eq!(
            d.decode(&record(b::PERF_RECORD_COMM, MISC_COMM_EXEC, &body)),
            Some(Event::Comm {
                pid: 10,
                tid: 10,
                name: "workload".into(),
                exec: true,
                time_ns: 78
            })
        );

        let body = trailer(10, 12, 79);
        assert_eq!(
            d.decode(&record(b::PERF_RECORD_SWITCH, 0, &body)),
            Some(Event::SwitchIn {
                pid: 10,
                tid: 12,
                time_ns: 79
            })
        );
        assert_eq!(
            d.decode(&record(b::PERF_RECORD_SWITCH, MISC_SWITCH_OUT, &body)),
            None
        );
    }
}

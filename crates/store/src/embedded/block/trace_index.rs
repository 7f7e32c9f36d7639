//! A block's trace-id index (`trace_index.bin`): sorted `(trace id, row
//! group)` pairs, 20 bytes each, so a trace lookup binary-searches in memory
//! and decodes only the row groups that hold the trace.

/// Encodes sorted pairs.
pub fn encode(index: &[([u8; 16], u32)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(index.len() * 20);
    for (id, rg) in index {
        out.extend_from_slice(id);
        out.extend_from_slice(&rg.to_le_bytes());
    }
    out
}

/// Decodes pairs; `None` when the length is not a multiple of 20.
pub fn decode(bytes: &[u8]) -> Option<Vec<([u8; 16], u32)>> {
    if !bytes.len().is_multiple_of(20) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 20);
    for rec in bytes.chunks_exact(20) {
        let id: [u8; 16] = rec.get(..16)?.try_into().ok()?;
        let rg = u32::from_le_bytes(rec.get(16..20)?.try_into().ok()?);
        out.push((id, rg));
    }
    out.sort_unstable();
    Some(out)
}

/// Row groups holding `id`.
pub fn row_groups(index: &[([u8; 16], u32)], id: &[u8; 16]) -> Vec<u32> {
    let lo = index.partition_point(|(t, _)| t < id);
    index[lo..]
        .iter()
        .take_while(|(t, _)| t == id)
        .map(|(_, rg)| *rg)
        .collect()
}

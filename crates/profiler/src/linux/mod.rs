//! Linux collection: perf_event_open, ring buffers, record decoding.

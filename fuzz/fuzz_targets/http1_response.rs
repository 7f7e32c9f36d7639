//! Fuzzes `whyslow load`'s hand-written HTTP/1.1 response reading (head
//! framing, Content-Length, chunked bodies, keep-alive) with arbitrary bytes
//! as the server's answer.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    load::fuzz_http1_response(data);
});

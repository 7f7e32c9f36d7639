//! The standalone test workload (see the library for its shape and usage).

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    workload::main(&args)
}

//! The `birdd` binary; see the library documentation.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(birdd::main_with_args(&args));
}

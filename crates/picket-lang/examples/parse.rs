//! Parses the files given on the command line and reports syntax errors.
fn main() {
    let sources = picket_lang::source::SourceMap::new();
    let mut failed = 0;
    for path in std::env::args().skip(1) {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let id = sources.add(&path, text.as_str());
        if let Err(e) = picket_lang::parser::parse_file(&text, id, &path) {
            failed += 1;
            println!("{}", e.render(&sources));
        }
    }
    println!("{failed} failed");
}

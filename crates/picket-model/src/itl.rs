//! Picket's own template library, compiled into the binary.
//!
//! `include <itl>`, `include <plugins>` and the other library names resolve
//! to these files unless a `-I` directory provides them first. `builtin.conf`
//! holds the templates every configuration has without any include (such as
//! `plugin-check-command`) and is loaded before the configuration itself.

use picket_lang::eval::EmbeddedFiles;

mod generated {
    include!(concat!(env!("OUT_DIR"), "/itl_files.rs"));
}

/// The directory embedded files appear under in messages.
pub const ROOT: &str = "<picket-itl>";

/// The embedded library.
pub struct Library;

impl EmbeddedFiles for Library {
    fn root(&self) -> &str {
        ROOT
    }

    fn read(&self, relative: &str) -> Option<&'static str> {
        generated::FILES
            .iter()
            .find(|(p, _)| *p == relative)
            .map(|(_, t)| *t)
    }

    fn list(&self) -> Vec<&'static str> {
        generated::FILES.iter().map(|(p, _)| *p).collect()
    }
}

/// The templates that exist without any include.
pub fn builtin() -> Option<&'static str> {
    Library.read("builtin.conf")
}

/// The objects that exist without any include.
pub fn builtin_objects() -> Option<&'static str> {
    Library.read("builtin-objects.conf")
}

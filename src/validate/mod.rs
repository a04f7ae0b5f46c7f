//! Validation beyond the schema: what a policy file means (within one file) and how files
//! refer to each other (across the tree). Both report every problem they find; neither stops
//! at the first.

mod cross;
mod semantic;
mod versions;

pub use cross::check_tree;
pub use semantic::check_file;

//! authaudit: audits how payment services and banks authenticate people.
//!
//! The pipeline, one module per step:
//! discover ([`discover`]) → read ([`source`]) → parse ([`yaml`]) → validate ([`schema`],
//! [`validate`]) into the model ([`model`]) → render ([`report`]). [`load`] runs the steps for
//! a tree of files; [`cli`] is the command line.

pub mod attackers;
pub mod baseline;
pub mod cli;
pub mod config;
pub mod diagnostic;
pub mod discover;
pub mod evaluate;
pub mod factors;
pub mod gate;
pub mod load;
pub mod migrate;
pub mod model;
pub mod parallel;
pub mod paths;
pub mod report;
pub mod rules;
pub mod schema;
pub mod source;
pub mod suggest;
pub mod timings;
pub mod validate;
pub mod waivers;
pub mod yaml;

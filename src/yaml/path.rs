//! YAML paths: the address of a node inside one document, e.g. `flows.link_bank.steps[0].verify[2]`.

use std::fmt;

/// One step of a [`YamlPath`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// The address of a node, from the document root.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YamlPath(pub Vec<Segment>);

impl YamlPath {
    pub fn root() -> Self {
        Self::default()
    }

    pub fn key(&self, key: impl Into<String>) -> Self {
        let mut next = self.clone();
        next.0.push(Segment::Key(key.into()));
        next
    }

    pub fn index(&self, index: usize) -> Self {
        let mut next = self.clone();
        next.0.push(Segment::Index(index));
        next
    }

    /// Parses a JSON Pointer (RFC 6901) as produced by JSON Schema validators. Array indices
    /// cannot be told from numeric keys in a pointer, so the caller resolves against the tree.
    pub fn from_json_pointer(pointer: &str) -> Vec<String> {
        pointer
            .split('/')
            .skip(1)
            .map(|token| token.replace("~1", "/").replace("~0", "~"))
            .collect()
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for YamlPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(document root)");
        }
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(key) => {
                    let plain = !key.is_empty()
                        && key
                            .chars()
                            .all(|c| c.is_alphanumeric() || c == '_' || c == '-');
                    match (i, plain) {
                        (0, true) => write!(f, "{key}")?,
                        (_, true) => write!(f, ".{key}")?,
                        (_, false) => write!(f, "[{key:?}]")?,
                    }
                }
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_like_the_issue_examples() {
        let path = YamlPath::root()
            .key("flows")
            .key("link_bank")
            .key("steps")
            .index(0)
            .key("verify")
            .index(2);
        assert_eq!(path.to_string(), "flows.link_bank.steps[0].verify[2]");
        assert_eq!(YamlPath::root().key("a b").to_string(), "[\"a b\"]");
    }

    #[test]
    fn json_pointer_tokens_are_unescaped() {
        assert_eq!(
            YamlPath::from_json_pointer("/flows/a~1b/steps/0"),
            vec!["flows", "a/b", "steps", "0"]
        );
    }
}

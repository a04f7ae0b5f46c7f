//! The policy JSON Schema: generated from the Rust model, completed with the factor names from
//! the catalogue, and used to check every parsed file. Schema errors are turned into
//! diagnostics located through the file's node tree. Remote `$ref` resolution is refused.

use crate::diagnostic::{Code, Diagnostic};
use crate::factors::Catalogue;
use crate::model::Policy;
use crate::suggest::closest;
use crate::yaml::{Node, Segment, YamlPath};
use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

/// The JSON Schema of policy format v1, with `verify` items restricted to catalogue factors.
pub fn policy_schema(catalogue: &Catalogue) -> Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(Policy))
        .unwrap_or_else(|e| panic!("schema of the policy model is not JSON: {e}"));
    strip_null_alternatives(&mut schema);
    let names: Vec<Value> = catalogue.names().map(Value::from).collect();
    if let Some(items) = schema.pointer_mut("/$defs/Step/properties/verify/items") {
        *items = serde_json::json!({ "type": "string", "enum": names });
    }
    if let Some(object) = schema.as_object_mut() {
        object.insert(
            "$id".to_owned(),
            Value::from("https://authaudit.invalid/schema/policy-v1.json"),
        );
    }
    schema
}

/// Optional fields may be omitted but not written as null. Without the null alternative that
/// schemars adds for `Option<T>`, the validator reports errors inside an optional field
/// precisely instead of a vague "not valid under any of the schemas" at its parent.
fn strip_null_alternatives(schema: &mut Value) {
    let is_null = |v: &Value| v.get("type").and_then(Value::as_str) == Some("null");
    if let Some(object) = schema.as_object_mut() {
        if let Some(Value::Array(types)) = object.get_mut("type") {
            types.retain(|t| t.as_str() != Some("null"));
            if types.len() == 1 {
                let only = types[0].clone();
                object.insert("type".to_owned(), only);
            }
        }
        let single = object
            .get("anyOf")
            .and_then(Value::as_array)
            .and_then(|branches| {
                let rest: Vec<&Value> = branches.iter().filter(|b| !is_null(b)).collect();
                (rest.len() == 1 && branches.len() == 2).then(|| rest[0].clone())
            });
        if let Some(Value::Object(inner)) = single {
            object.remove("anyOf");
            for (key, value) in inner {
                object.entry(key).or_insert(value);
            }
        }
    }
    match schema {
        Value::Object(object) => object.values_mut().for_each(strip_null_alternatives),
        Value::Array(items) => items.iter_mut().for_each(strip_null_alternatives),
        _ => {}
    }
}

/// Refuses every external reference: the schema is self-contained and authaudit never
/// reaches the network.
struct NoRetrieval;

impl jsonschema::Retrieve for NoRetrieval {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        Err(format!("authaudit does not fetch external schemas ({uri})").into())
    }
}

/// A compiled policy schema.
pub struct SchemaChecker {
    schema: Value,
    validator: jsonschema::Validator,
}

impl SchemaChecker {
    pub fn new(catalogue: &Catalogue) -> Self {
        let schema = policy_schema(catalogue);
        let validator = jsonschema::options()
            .with_retriever(NoRetrieval)
            .build(&schema)
            .unwrap_or_else(|e| panic!("generated policy schema does not compile: {e}"));
        Self { schema, validator }
    }

    pub fn schema(&self) -> &Value {
        &self.schema
    }

    /// Every schema violation of `instance` (the JSON form of `tree`) as a diagnostic.
    pub fn check(&self, file: &str, tree: &Node, instance: &Value) -> Vec<Diagnostic> {
        let mut found = Vec::new();
        for error in self.validator.iter_errors(instance) {
            let tokens = YamlPath::from_json_pointer(error.instance_path().as_str());
            let path = tree.resolve_pointer(&tokens);
            let schema_tokens = YamlPath::from_json_pointer(error.schema_path().as_str());
            let context = ErrorContext {
                file,
                tree,
                path: &path,
                schema: &self.schema,
                schema_tokens: &schema_tokens,
            };
            found.extend(context.diagnostics(error.kind(), &error.to_string()));
        }
        found
    }
}

struct ErrorContext<'a> {
    file: &'a str,
    tree: &'a Node,
    path: &'a YamlPath,
    schema: &'a Value,
    schema_tokens: &'a [String],
}

impl ErrorContext<'_> {
    fn at(&self, code: Code, path: &YamlPath, message: String) -> Diagnostic {
        let node_span = self.tree.get(path).map(|n| n.span);
        let span = match code {
            Code::UnknownField => self.tree.key_span(path).or(node_span),
            _ => node_span.or_else(|| self.tree.key_span(path)),
        };
        let mut diagnostic = Diagnostic::error(code, self.file, message).with_path(path.clone());
        if let Some(span) = span.or_else(|| self.tree.get(&YamlPath::root()).map(|n| n.span)) {
            diagnostic = diagnostic.with_span(span);
        }
        diagnostic
    }

    fn diagnostics(&self, kind: &ValidationErrorKind, fallback: &str) -> Vec<Diagnostic> {
        let here = self.path;
        let value = self.tree.get(here);
        let field = describe_field(here);
        match kind {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                let known = self.sibling_properties();
                unexpected
                    .iter()
                    .map(|key| {
                        let d = self.at(
                            Code::UnknownField,
                            &here.key(key.clone()),
                            format!("unknown field `{key}` in {field}"),
                        );
                        match closest(key, known.iter().map(String::as_str)) {
                            Some(best) => d.with_hint(format!("did you mean `{best}`?")),
                            None => {
                                d.with_hint(format!("fields allowed here: {}", known.join(", ")))
                            }
                        }
                    })
                    .collect()
            }
            ValidationErrorKind::Required { property } => {
                let name = property.as_str().unwrap_or_default();
                vec![
                    self.at(
                        Code::MissingField,
                        here,
                        format!("missing required field `{name}` in {field}"),
                    )
                    .with_hint(format!("add `{name}:`; see docs/policy-format.md")),
                ]
            }
            ValidationErrorKind::Enum { options } => {
                let options: Vec<&str> = options
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                vec![self.unknown_value(&options)]
            }
            // Enums whose variants carry documentation are generated as `oneOf` of constants.
            ValidationErrorKind::OneOfNotValid { .. } if !self.const_options().is_empty() => {
                let options = self.const_options();
                let options: Vec<&str> = options.iter().map(String::as_str).collect();
                vec![self.unknown_value(&options)]
            }
            ValidationErrorKind::Type { kind } => {
                let found = value.map_or("nothing", Node::type_name);
                vec![
                    self.at(
                        Code::WrongType,
                        here,
                        format!("{field} must be {}, found {found}", type_phrase(kind)),
                    )
                    .with_hint(type_hint(kind, found)),
                ]
            }
            ValidationErrorKind::Minimum { limit }
            | ValidationErrorKind::ExclusiveMinimum { limit } => {
                let given = value.map(render_scalar).unwrap_or_default();
                vec![
                    self.at(
                        Code::OutOfRange,
                        here,
                        format!("{field} is {given}, below the minimum {limit}"),
                    )
                    .with_hint("limits and counts cannot be negative or zero here"),
                ]
            }
            ValidationErrorKind::Maximum { limit }
            | ValidationErrorKind::ExclusiveMaximum { limit } => {
                let given = value.map(render_scalar).unwrap_or_default();
                vec![
                    self.at(
                        Code::OutOfRange,
                        here,
                        format!("{field} is {given}, above the maximum {limit}"),
                    )
                    .with_hint("check the number; it is larger than any real setting"),
                ]
            }
            ValidationErrorKind::Pattern { .. } => {
                let given = value.map(render_scalar).unwrap_or_default();
                vec![
                    self.at(
                        Code::InvalidFormat,
                        here,
                        format!("{field} `{given}` is not in the expected format"),
                    )
                    .with_hint(format_hint(here)),
                ]
            }
            ValidationErrorKind::MinItems { .. } | ValidationErrorKind::MinProperties { .. } => {
                vec![
                    self.at(
                        Code::EmptyCollection,
                        here,
                        format!("{field} must not be empty"),
                    )
                    .with_hint("list at least one entry"),
                ]
            }
            ValidationErrorKind::MinLength { .. } => vec![
                self.at(
                    Code::EmptyCollection,
                    here,
                    format!("{field} must not be empty"),
                )
                .with_hint("write a value"),
            ],
            _ => vec![
                self.at(Code::SchemaViolation, here, format!("{field}: {fallback}"))
                    .with_hint("see docs/policy-format.md for the expected shape"),
            ],
        }
    }

    fn unknown_value(&self, options: &[&str]) -> Diagnostic {
        let here = self.path;
        let given = self.tree.get(here).map(render_scalar).unwrap_or_default();
        let is_factor = matches!(
            here.0.as_slice(),
            [.., Segment::Key(k), Segment::Index(_)] if k == "verify"
        );
        let (code, message) = if is_factor {
            (Code::UnknownFactor, format!("unknown factor `{given}`"))
        } else {
            (
                Code::UnknownValue,
                format!("unknown value `{given}` for {}", describe_field(here)),
            )
        };
        let hint = match closest(&given, options.iter().copied()) {
            Some(best) => format!("did you mean `{best}`?"),
            None if is_factor => "run `authaudit factors` to list the factor catalogue".to_owned(),
            None => format!("expected one of: {}", options.join(", ")),
        };
        self.at(code, here, message).with_hint(hint)
    }

    /// The constants of a `oneOf` made only of constants, else nothing.
    fn const_options(&self) -> Vec<String> {
        let branches = resolve_schema(self.schema, self.schema_tokens)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut constants = Vec::new();
        for branch in &branches {
            match (branch.get("const"), branch.get("enum")) {
                (Some(Value::String(one)), _) => constants.push(one.clone()),
                (_, Some(Value::Array(many))) => {
                    constants.extend(many.iter().filter_map(Value::as_str).map(str::to_owned));
                }
                _ => return Vec::new(),
            }
        }
        constants
    }

    /// Property names of the schema object whose `additionalProperties` rejected a key.
    fn sibling_properties(&self) -> Vec<String> {
        let parent = &self.schema_tokens[..self.schema_tokens.len().saturating_sub(1)];
        resolve_schema(self.schema, parent)
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    }
}

/// Follows a schema pointer, stepping through `$ref`s to local definitions.
fn resolve_schema<'a>(root: &'a Value, tokens: &[String]) -> Option<&'a Value> {
    let mut node = root;
    for token in tokens {
        if token == "$ref" {
            continue;
        }
        node = follow_ref(root, node);
        node = match node {
            Value::Object(map) => map.get(token)?,
            Value::Array(items) => items.get(token.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(follow_ref(root, node))
}

fn follow_ref<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    node.get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
        .and_then(|pointer| root.pointer(pointer))
        .unwrap_or(node)
}

fn describe_field(path: &YamlPath) -> String {
    if path.is_root() {
        "the document".to_owned()
    } else {
        format!("`{path}`")
    }
}

fn render_scalar(node: &Node) -> String {
    use crate::yaml::Value as V;
    match &node.value {
        V::Str(s) => s.clone(),
        V::Int(i) => i.to_string(),
        V::UInt(u) => u.to_string(),
        V::Float(f) => f.to_string(),
        V::Bool(b) => b.to_string(),
        V::Null => "null".to_owned(),
        V::Seq(_) => "a sequence".to_owned(),
        V::Map(_) => "a mapping".to_owned(),
    }
}

fn type_phrase(kind: &jsonschema::error::TypeKind) -> String {
    let name = |t: &jsonschema::JsonType| match t.to_string().as_str() {
        "object" => "a mapping".to_owned(),
        "array" => "a sequence".to_owned(),
        "integer" => "a whole number".to_owned(),
        "null" => "null".to_owned(),
        other => format!("a {other}"),
    };
    match kind {
        jsonschema::error::TypeKind::Single(t) => name(t),
        jsonschema::error::TypeKind::Multiple(set) => set
            .iter()
            .map(|t| name(&t))
            .collect::<Vec<_>>()
            .join(" or "),
    }
}

fn type_hint(kind: &jsonschema::error::TypeKind, found: &str) -> String {
    let expected = type_phrase(kind);
    if expected.contains("whole number") && found == "number" {
        "use a whole number without a fraction; numbers beyond 2^64 are out of range".to_owned()
    } else if expected.contains("string") {
        "quote the value if YAML reads it as another type (e.g. \"2020-09-01\", \"no\")".to_owned()
    } else {
        format!("write {expected} here")
    }
}

fn format_hint(path: &YamlPath) -> String {
    let last = match path.0.last() {
        Some(Segment::Key(k)) => k.as_str(),
        _ => "",
    };
    match last {
        "as_of" | "date" => "write dates as YYYY-MM-DD, e.g. 2020-09-10".to_owned(),
        "window" | "lockout_duration" | "cooling_off" => {
            "write durations as a whole number and a unit (s, m, h, d, w), e.g. 30m, 24h, 7d"
                .to_owned()
        }
        "id" => "service ids use lowercase letters, digits and `-`, e.g. jp-bank-a".to_owned(),
        "jurisdiction" => "use an ISO 3166-1 alpha-2 code such as JP, or EU".to_owned(),
        "currency" => "use an ISO 4217 code such as JPY".to_owned(),
        _ => "see docs/policy-format.md for the expected format".to_owned(),
    }
}

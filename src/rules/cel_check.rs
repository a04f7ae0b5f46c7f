//! Static checks of a rule's CEL condition against the flow view's JSON Schema, so a typo in
//! a field name is refused when the pack loads, not silently evaluated to an error later.

use crate::suggest::closest;
use cel::IdedExpr;
use cel::common::ast::Expr;
use serde_json::Value;
use std::collections::HashMap;

/// What a name in scope stands for: a schema node, or something whose shape is not known
/// (an accumulator, an element of a list of scalars).
type Scope<'a> = HashMap<String, Option<&'a Value>>;

/// Identifiers CEL uses as type names.
const TYPE_NAMES: &[&str] = &[
    "int",
    "uint",
    "double",
    "bool",
    "string",
    "bytes",
    "list",
    "map",
    "null_type",
    "type",
];

/// Problems with the fields and variables an expression uses, as messages with hints.
pub fn check_references(expr: &IdedExpr, view_schema: &Value) -> Vec<(String, String)> {
    let mut scope: Scope<'_> = HashMap::new();
    if let Some(properties) = view_schema.get("properties").and_then(Value::as_object) {
        for (name, schema) in properties {
            scope.insert(name.clone(), Some(resolve(view_schema, schema)));
        }
    }
    let mut problems = Vec::new();
    walk(expr, view_schema, &scope, &mut problems);
    problems
}

fn resolve<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
        .and_then(|p| root.pointer(p))
        .unwrap_or(schema)
}

/// The schema of `expr` when it is a variable or a chain of field selections.
fn schema_of<'a>(
    expr: &IdedExpr,
    root: &'a Value,
    scope: &Scope<'a>,
    problems: &mut Vec<(String, String)>,
) -> Option<&'a Value> {
    match &expr.expr {
        Expr::Ident(name) => scope.get(name).copied().flatten(),
        Expr::Select(select) => {
            let parent = schema_of(&select.operand, root, scope, problems)?;
            let properties = parent.get("properties").and_then(Value::as_object)?;
            match properties.get(&select.field) {
                Some(field) => Some(resolve(root, field)),
                None => {
                    let hint = match closest(&select.field, properties.keys().map(String::as_str)) {
                        Some(best) => format!("did you mean `{best}`?"),
                        None => format!(
                            "fields here: {}",
                            properties.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    };
                    problems.push((
                        format!("the flow view has no field `{}` here", select.field),
                        format!("{hint} (the fields are listed in docs/rules/flow-view.md)"),
                    ));
                    None
                }
            }
        }
        _ => None,
    }
}

fn walk<'a>(
    expr: &IdedExpr,
    root: &'a Value,
    scope: &Scope<'a>,
    problems: &mut Vec<(String, String)>,
) {
    match &expr.expr {
        Expr::Ident(name) => {
            if !scope.contains_key(name) && !TYPE_NAMES.contains(&name.as_str()) {
                let names: Vec<&str> = scope.keys().map(String::as_str).collect();
                let hint = match closest(name, names.iter().copied()) {
                    Some(best) => format!("did you mean `{best}`?"),
                    None => "conditions read the variables `service` and `flow`".to_owned(),
                };
                problems.push((format!("unknown variable `{name}`"), hint));
            }
        }
        Expr::Select(select) => {
            // Check the whole chain once, from its root.
            if select_root_is_variable(&select.operand) {
                if let Expr::Ident(name) = &root_ident(&select.operand).expr
                    && !scope.contains_key(name)
                {
                    walk(root_ident(&select.operand), root, scope, problems);
                    return;
                }
                schema_of(expr, root, scope, problems);
            } else {
                walk(&select.operand, root, scope, problems);
            }
        }
        Expr::Call(call) => {
            if let Some(target) = &call.target {
                walk(target, root, scope, problems);
            }
            for arg in &call.args {
                walk(arg, root, scope, problems);
            }
        }
        Expr::List(list) => list
            .elements
            .iter()
            .for_each(|e| walk(e, root, scope, problems)),
        Expr::Map(map) => {
            for entry in &map.entries {
                if let cel::common::ast::EntryExpr::MapEntry(e) = &entry.expr {
                    walk(&e.key, root, scope, problems);
                    walk(&e.value, root, scope, problems);
                }
            }
        }
        Expr::Comprehension(c) => {
            walk(&c.iter_range, root, scope, problems);
            let items = schema_of(&c.iter_range, root, scope, &mut Vec::new())
                .and_then(|s| s.get("items"))
                .map(|items| resolve(root, items))
                .filter(|items| items.get("properties").is_some());
            let mut inner = scope.clone();
            inner.insert(c.iter_var.clone(), items);
            if let Some(second) = &c.iter_var2 {
                inner.insert(second.clone(), None);
            }
            inner.insert(c.accu_var.clone(), None);
            walk(&c.accu_init, root, scope, problems);
            for part in [&c.loop_cond, &c.loop_step, &c.result] {
                walk(part, root, &inner, problems);
            }
        }
        Expr::Literal(_) | Expr::Struct(_) | Expr::Unspecified => {}
    }
}

fn select_root_is_variable(expr: &IdedExpr) -> bool {
    matches!(root_ident(expr).expr, Expr::Ident(_))
}

fn root_ident(expr: &IdedExpr) -> &IdedExpr {
    match &expr.expr {
        Expr::Select(select) => root_ident(&select.operand),
        _ => expr,
    }
}

/// The most bytes a condition may have. The longest bundled condition has about 600.
pub const MAX_SOURCE_BYTES: usize = 4096;
/// The deepest nesting of brackets (`(`, `[`, `{`) in a condition's source, checked before
/// parsing; the CEL parser itself gives up at 96 levels with an unreadable message.
pub const MAX_BRACKET_DEPTH: usize = 32;
/// The most nodes of a parsed condition, macros expanded.
pub const MAX_NODES: usize = 1000;
/// The deepest nesting of a parsed condition (`1 + 1 + …` nests one level per term). Every
/// later pass (field check, evaluation) recurses over the tree: this bounds their stack.
pub const MAX_DEPTH: usize = 48;
/// The deepest nesting of comprehensions (`all`, `exists`, `exists_one`, `map`, `filter`).
pub const MAX_COMPREHENSION_DEPTH: usize = 2;

/// Functions a condition may call without a receiver: CEL's operators and the standard
/// functions of this build (`cel` without its `chrono` and `regex` features).
const GLOBAL_FUNCTIONS: &[&str] = &[
    "_?_:_",
    "_&&_",
    "_||_",
    "!_",
    "_-_",
    "_+_",
    "_*_",
    "_/_",
    "_%_",
    "_==_",
    "_!=_",
    "_>=_",
    "_<=_",
    "_>_",
    "_<_",
    "-_",
    "_[_]",
    "@in",
    "@not_strictly_false",
    "size",
    "int",
    "uint",
    "double",
    "string",
    "bool",
    "bytes",
    "dyn",
    "type",
];

/// Functions a condition may call on a receiver (`x.f(…)`).
const MEMBER_FUNCTIONS: &[&str] = &["size", "contains", "startsWith", "endsWith"];

/// Why a condition is refused before or after parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Over a size or nesting limit.
    TooComplex(String),
    /// A function this build does not provide; the name, to point at it.
    UnsupportedFunction(String),
    /// A comprehension over something the flow view does not bound.
    UnboundedIteration(String),
}

/// Checks on the source text, before it is parsed: its length and bracket nesting.
pub fn check_source(source: &str) -> Option<Refusal> {
    if source.len() > MAX_SOURCE_BYTES {
        return Some(Refusal::TooComplex(format!(
            "the condition has {} bytes, more than the {MAX_SOURCE_BYTES} a condition may have",
            source.len()
        )));
    }
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in source.chars() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '(' | '[' | '{' => {
                depth += 1;
                if depth > MAX_BRACKET_DEPTH {
                    return Some(Refusal::TooComplex(format!(
                        "the condition nests brackets more than {MAX_BRACKET_DEPTH} levels deep"
                    )));
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// Checks on the parsed condition, walking it without recursion (its depth is not known yet):
/// node count, depth, comprehension nesting, the functions it calls and what comprehensions
/// iterate over. Every refusal, in the order met.
pub fn check_shape(expr: &IdedExpr) -> Vec<Refusal> {
    shape(expr).0
}

/// The refusals of [`check_shape`], and the node count, depth and comprehension depth seen.
fn shape(expr: &IdedExpr) -> (Vec<Refusal>, [usize; 3]) {
    let mut seen = [0usize; 3];
    let mut refusals = Vec::new();
    let mut nodes = 0usize;
    // (node, depth, comprehension depth, iteration variables in scope)
    let mut stack: Vec<(&IdedExpr, usize, usize, Vec<&str>)> = vec![(expr, 1, 0, Vec::new())];
    let mut too_deep = false;
    let mut too_nested = false;
    while let Some((node, depth, comprehensions, vars)) = stack.pop() {
        nodes += 1;
        seen = [nodes, seen[1].max(depth), seen[2].max(comprehensions)];
        if nodes > MAX_NODES {
            refusals.push(Refusal::TooComplex(format!(
                "the condition has more than {MAX_NODES} expression nodes (macros expanded)"
            )));
            return (refusals, seen);
        }
        if depth > MAX_DEPTH {
            if !too_deep {
                too_deep = true;
                refusals.push(Refusal::TooComplex(format!(
                    "the condition nests more than {MAX_DEPTH} levels deep \
                     (each operator of a chain like `a + b + c` adds a level)"
                )));
            }
            continue;
        }
        let below = depth + 1;
        match &node.expr {
            Expr::Call(call) => {
                let known = match call.target {
                    Some(_) => MEMBER_FUNCTIONS.contains(&call.func_name.as_str()),
                    None => GLOBAL_FUNCTIONS.contains(&call.func_name.as_str()),
                };
                if !known
                    && !refusals.contains(&Refusal::UnsupportedFunction(call.func_name.clone()))
                {
                    refusals.push(Refusal::UnsupportedFunction(call.func_name.clone()));
                }
                if let Some(target) = &call.target {
                    stack.push((target, below, comprehensions, vars.clone()));
                }
                for arg in call.args.iter().rev() {
                    stack.push((arg, below, comprehensions, vars.clone()));
                }
            }
            Expr::Select(select) => {
                stack.push((&select.operand, below, comprehensions, vars));
            }
            Expr::List(list) => {
                for element in list.elements.iter().rev() {
                    stack.push((element, below, comprehensions, vars.clone()));
                }
            }
            Expr::Map(map) => {
                for entry in map.entries.iter().rev() {
                    if let cel::common::ast::EntryExpr::MapEntry(e) = &entry.expr {
                        stack.push((&e.value, below, comprehensions, vars.clone()));
                        stack.push((&e.key, below, comprehensions, vars.clone()));
                    }
                }
            }
            Expr::Struct(s) => {
                for entry in s.entries.iter().rev() {
                    if let cel::common::ast::EntryExpr::StructField(f) = &entry.expr {
                        stack.push((&f.value, below, comprehensions, vars.clone()));
                    }
                }
            }
            Expr::Comprehension(c) => {
                let inner = comprehensions + 1;
                if inner > MAX_COMPREHENSION_DEPTH && !too_nested {
                    too_nested = true;
                    refusals.push(Refusal::TooComplex(format!(
                        "comprehensions (`all`, `exists`, `exists_one`, `map`, `filter`) \
                         nest more than {MAX_COMPREHENSION_DEPTH} deep"
                    )));
                }
                if !is_view_path(&c.iter_range, &vars) {
                    refusals.push(Refusal::UnboundedIteration(
                        "a comprehension iterates over something other than a list field of \
                         the flow view (a literal list, a concatenation, the result of `map` \
                         or `filter`)"
                            .to_owned(),
                    ));
                }
                let mut scoped = vars.clone();
                scoped.push(c.iter_var.as_str());
                if let Some(second) = &c.iter_var2 {
                    scoped.push(second.as_str());
                }
                for part in [&c.result, &c.loop_step, &c.loop_cond] {
                    stack.push((part, below, inner, scoped.clone()));
                }
                stack.push((&c.accu_init, below, comprehensions, vars.clone()));
                stack.push((&c.iter_range, below, comprehensions, vars));
            }
            Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
        }
    }
    (refusals, seen)
}

/// Whether `expr` is a chain of field selections from `flow`, `service` or the variable of an
/// enclosing comprehension (itself an element of a view list): a list the view bounds.
fn is_view_path(expr: &IdedExpr, vars: &[&str]) -> bool {
    let mut here = expr;
    loop {
        match &here.expr {
            Expr::Select(select) if !select.test => here = &select.operand,
            Expr::Ident(name) => {
                return matches!(name.as_str(), "flow" | "service")
                    || vars.contains(&name.as_str());
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSet;

    /// The limits leave room: every bundled condition stays within half of each size limit
    /// (comprehension nesting aside, which they may use in full).
    #[test]
    fn bundled_conditions_are_well_within_the_limits() {
        let set = RuleSet::bundled();
        let mut most = [0usize; 4];
        for (_, rule) in set.rules() {
            let (refusals, [nodes, depth, comprehensions]) = shape(rule.program.expression());
            assert!(refusals.is_empty(), "{}: {refusals:?}", rule.spec.id);
            assert!(check_source(&rule.spec.condition).is_none());
            let bytes = rule.spec.condition.len();
            most = [
                most[0].max(bytes),
                most[1].max(nodes),
                most[2].max(depth),
                most[3].max(comprehensions),
            ];
        }
        assert!(most[0] * 2 <= MAX_SOURCE_BYTES, "{most:?}");
        assert!(most[1] * 2 <= MAX_NODES, "{most:?}");
        assert!(most[2] * 2 <= MAX_DEPTH, "{most:?}");
        assert!(most[3] <= MAX_COMPREHENSION_DEPTH, "{most:?}");
        eprintln!("bundled maxima (bytes, nodes, depth, comprehension depth): {most:?}");
    }

    #[test]
    fn brackets_in_string_literals_do_not_count() {
        let quoted = format!("'{}' == \"{}\"", "(".repeat(100), "[".repeat(100));
        assert_eq!(check_source(&quoted), None);
        let deep = format!("{}1{}", "(".repeat(33), ")".repeat(33));
        assert!(matches!(check_source(&deep), Some(Refusal::TooComplex(_))));
    }
}

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

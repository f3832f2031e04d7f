//! `default` responses, response `headers` and `links`.
//!
//! progenitor counts a `default` response as both a success and an error response and panics when
//! an operation's success (or error) responses have different bodies, so a published `default`
//! next to typed responses cannot reach it as is. The rule, per operation under `paths`:
//!
//! * `default` is the only response: kept (progenitor uses it for both outcomes);
//! * its body is the body of every other error response (or there are none) — the usual "Error"
//!   default: it becomes the operation's error type, as `4XX` and `5XX` responses (those not
//!   already declared) carrying that body; so the client decodes any other 4xx/5xx status into
//!   the same error type and the server can answer one;
//! * it has no body but the other errors do: dropped (it carries nothing a client could decode;
//!   other statuses still arrive as unexpected responses), noted in the operation's description;
//! * otherwise (a body unlike the other errors'): the operation is left out of client, server and
//!   mocks, and reported ([`crate::degrade`]).
//!
//! Response `headers` and `links` are dropped (no generator reads them; header values stay
//! reachable through the raw response); the header names are noted in the response description.

use super::append_note;
use super::refs::pointer_of;
use crate::degrade::{Report, prune};
use crate::openapi::operations;
use crate::{Error, Result};
use serde_json::{Map, Value};

/// Applies the rules above to every operation.
pub fn simplify(doc: &mut Value, report: &mut Report) -> Result<()> {
    let targets: Vec<(String, String, &'static str, String, bool)> = operations(doc)
        .iter()
        .map(|op| {
            (
                pointer_of(op.section, op.path, op.method),
                op.path.to_string(),
                op.method,
                op.label(),
                op.section == "paths",
            )
        })
        .collect();
    let mut left_out = Vec::new();
    for (pointer, path, method, label, served) in targets {
        let Some(Value::Object(op)) = doc.pointer_mut(&pointer) else {
            continue;
        };
        let mut op_notes = Vec::new();
        if let Some(Value::Object(responses)) = op.get_mut("responses") {
            for response in responses.values_mut().filter_map(Value::as_object_mut) {
                drop_headers_and_links(response);
            }
            if served {
                match replace_default(responses, &label) {
                    Ok(Some(note)) => op_notes.push(note),
                    Ok(None) => {}
                    Err(Error::Invalid { reason, .. }) => {
                        left_out.push((path, method, label, reason))
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        for note in op_notes {
            append_note(op, "description", &note);
        }
    }
    for (path, method, label, reason) in left_out {
        prune::leave_out(doc, &path, method, &label, &reason, report);
    }
    Ok(())
}

fn drop_headers_and_links(response: &mut Map<String, Value>) {
    response.shift_remove("links");
    if let Some(Value::Object(headers)) = response.shift_remove("headers")
        && !headers.is_empty()
    {
        let names: Vec<String> = headers.keys().map(|h| format!("`{h}`")).collect();
        append_note(
            response,
            "description",
            &format!("Response headers: {}.", names.join(", ")),
        );
    }
}

/// The JSON body schema of a response (`None` without a body).
fn body(response: &Value) -> Option<&Value> {
    response
        .get("content")
        .and_then(Value::as_object)
        .and_then(|c| c.values().next())
        .map(|m| m.get("schema").unwrap_or(&Value::Null))
}

/// Rewrites `default` per the module rule; returns a note for the operation's description.
fn replace_default(responses: &mut Map<String, Value>, label: &str) -> Result<Option<String>> {
    let Some(default) = responses.get("default").cloned() else {
        return Ok(None);
    };
    if responses.len() == 1 {
        return Ok(None);
    }
    let default_body = body(&default);
    let errors: Vec<Option<&Value>> = responses
        .iter()
        .filter(|(status, _)| status.starts_with('4') || status.starts_with('5'))
        .map(|(_, r)| body(r))
        .collect();
    if errors.iter().all(|b| *b == default_body) {
        let default = responses.shift_remove("default").unwrap_or(Value::Null);
        let mut added = Vec::new();
        for (class, range) in [("4XX", "4xx"), ("5XX", "5xx")] {
            if responses.contains_key(class) {
                continue;
            }
            let mut response = default.clone();
            if let Some(map) = response.as_object_mut() {
                append_note(
                    map,
                    "description",
                    &format!("Any other {range} status (published as the `default` response)."),
                );
            }
            responses.insert(class.into(), response);
            added.push(class);
        }
        return Ok(Some(format!(
            "The published `default` response is the error type of this operation: declared here as {}.",
            added.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(" and ")
        ))
        .filter(|_| !added.is_empty()));
    }
    if default_body.is_none() {
        responses.shift_remove("default");
        let description = default
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim()
            .trim_end_matches('.')
            .to_string();
        return Ok(Some(format!(
            "The published `default` response (\"{description}\", no body) is left out: other statuses arrive as unexpected responses."
        )));
    }
    Err(Error::invalid(
        label,
        "`default` response has a body unlike the other error responses' bodies; it cannot \
         be the operation's error type (progenitor needs one) — give it the errors' schema, or \
         remove it, in an overlay",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn json_body(name: &str) -> Value {
        json!({"application/json": {"schema": {"$ref": format!("#/components/schemas/{name}")}}})
    }

    fn run(responses: Value) -> Result<Value> {
        let mut doc = json!({"paths": {"/a": {"get": {"operationId": "list-things", "responses": responses}}}});
        simplify(&mut doc, &mut Report::default())?;
        Ok(doc["paths"]["/a"]["get"].clone())
    }

    #[test]
    fn an_error_default_becomes_4xx_and_5xx() {
        let op = run(json!({
            "200": {"description": "ok", "content": json_body("List"),
                    "headers": {"X-Total": {"schema": {"type": "integer"}}}, "links": {"next": {"operationId": "x"}}},
            "400": {"description": "bad", "content": json_body("Err")},
            "default": {"description": "Error", "content": json_body("Err")}
        }))
        .unwrap();
        let keys: Vec<&String> = op["responses"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["200", "400", "4XX", "5XX"]);
        assert_eq!(op["responses"]["5XX"]["content"], json_body("Err"));
        assert_eq!(
            op["responses"]["4XX"]["description"],
            "Error\n\nAny other 4xx status (published as the `default` response)."
        );
        assert!(op["responses"]["200"].get("headers").is_none());
        assert!(op["responses"]["200"].get("links").is_none());
        assert!(
            op["responses"]["200"]["description"]
                .as_str()
                .unwrap()
                .ends_with("Response headers: `X-Total`.")
        );
        assert!(
            op["description"]
                .as_str()
                .unwrap()
                .contains("`default` response is the error type")
        );
    }

    #[test]
    fn a_bodiless_default_beside_typed_errors_is_dropped_and_noted() {
        let op = run(json!({
            "204": {"description": "gone"},
            "404": {"description": "nf", "content": json_body("Err")},
            "default": {"description": "unexpected error"}
        }))
        .unwrap();
        assert!(op["responses"].get("default").is_none());
        assert!(
            op["description"]
                .as_str()
                .unwrap()
                .contains("\"unexpected error\", no body")
        );
    }

    #[test]
    fn a_lone_default_is_kept_and_a_conflicting_one_leaves_the_operation_out() {
        let op =
            run(json!({"default": {"description": "any", "content": json_body("Err")}})).unwrap();
        assert!(op["responses"].get("default").is_some());
        let mut doc = json!({"paths": {"/a": {"get": {"operationId": "list-things", "responses": {
            "200": {"description": "ok", "content": json_body("List")},
            "400": {"description": "bad", "content": json_body("Err")},
            "default": {"description": "other", "content": json_body("Other")}
        }}}}});
        let mut report = Report::default();
        simplify(&mut doc, &mut report).unwrap();
        assert!(doc["paths"].get("/a").is_none(), "{doc}");
        let err = report.lines().join("\n");
        assert!(err.contains("operation list-things (GET /a)"), "{err}");
        assert!(
            err.contains("`default` response has a body unlike"),
            "{err}"
        );
    }
}

//! The small spec the checker tests run against (shared by both test binaries).

use backpack_drift::{DriftWatch, Schemas};
use serde_json::json;
use std::sync::Arc;

/// A watch over one operation (`GET /things/{id}`), one webhook (`thing`) and their schemas.
pub fn watch() -> DriftWatch {
    let doc = json!({
        "family": "store",
        "operations": [{"id": "get-thing", "method": "GET", "path": "/things/{id}", "responses": {
            "200": {"application/json": {"ref": "Thing"}},
            "204": {},
            "4XX": {"application/json": {"type": "object", "properties": {"message": {"type": "string"}}}}
        }}],
        "webhooks": {"thing": {"ref": "Hook"}},
        "schemas": {
            "Thing": {"type": "object", "required": ["id", "kind"], "properties": {
                "id": {"oneOf": [{"type": "integer"}, {"type": "string"}]},
                "kind": {"ref": "Kind"},
                "price": {"type": "number"},
                "note": {"type": "string", "nullable": true},
                "tags": {"type": "array", "items": {"type": "string"}},
                "extra": {"type": "object", "additionalProperties": {"type": "integer"}},
                "free": {"type": "object"},
                "child": {"ref": "Thing"}
            }},
            "Kind": {"type": "string", "enum": ["a", "b"]},
            "Hook": {"type": "object", "properties": {"notification_type": {"type": "string", "enum": ["thing"]}}}
        }
    });
    let schemas = Schemas::from_documents(&[&doc.to_string()], "test").unwrap();
    DriftWatch::with_schemas(Arc::new(schemas))
}

//! The checks a create call makes on its request before anything is stored (each `Err` is the
//! `400` message).

/// Items per create call.
const MAX_BATCH: usize = 100;

/// Whether `sku` is non-empty and only lowercase Latin letters, digits, `.`, `-`, `_`.
fn is_valid_sku(sku: &str) -> bool {
    !sku.is_empty()
        && sku
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

/// `value`, if present and not blank; `field` of request item `index` otherwise.
pub(super) fn required<'a>(
    value: Option<&'a str>,
    field: &str,
    index: usize,
) -> Result<&'a str, String> {
    match value {
        Some(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(format!("[{index}].{field} is required")),
    }
}

/// The SKU rule, for request item `index`.
pub(super) fn check_sku(sku: &str, index: usize) -> Result<(), String> {
    if is_valid_sku(sku) {
        Ok(())
    } else {
        Err(format!(
            "[{index}].item_sku may contain only lowercase Latin letters, digits, '.', '-' and '_'"
        ))
    }
}

/// 1 to [`MAX_BATCH`] items per call.
pub(super) fn check_batch(len: usize) -> Result<(), String> {
    if (1..=MAX_BATCH).contains(&len) {
        Ok(())
    } else {
        Err(format!("send between 1 and {MAX_BATCH} items (got {len})"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sku_rule() {
        for ok in ["sword", "a.b-c_d9"] {
            assert!(is_valid_sku(ok), "{ok}");
        }
        for bad in ["", "Sword", "a b", "ä", "a/b"] {
            assert!(!is_valid_sku(bad), "{bad}");
        }
    }

    #[test]
    fn batch_limits() {
        assert!(check_batch(0).is_err());
        assert!(check_batch(1).is_ok());
        assert!(check_batch(100).is_ok());
        assert!(check_batch(101).is_err());
    }
}

//! A `oneOf` with a `discriminator` parses into the variant its property selects, keeps an unknown
//! value as raw JSON, and serializes back unchanged (3.0 mapping and 3.1 default names).

use construct_corpus::{one_of_discriminator as v30, one_of_discriminator_31 as v31};
use serde_json::json;

#[test]
fn the_discriminator_selects_the_variant() {
    let cat = json!({"kind": "cat", "lives": 9});
    let pet: v30::Pet = serde_json::from_value(cat.clone()).unwrap();
    assert!(
        matches!(&pet, v30::Pet::Cat(c) if c.lives == Some(9)),
        "{pet:?}"
    );
    assert_eq!(serde_json::to_value(&pet).unwrap(), cat);

    let dog: v30::Pet = serde_json::from_value(json!({"kind": "dog", "good": true})).unwrap();
    assert!(matches!(dog, v30::Pet::Dog(d) if d.good == Some(true)));

    // Without a mapping, the value is the schema name (OpenAPI's default).
    let named: v31::Pet = serde_json::from_value(json!({"kind": "Dog"})).unwrap();
    assert!(matches!(named, v31::Pet::Dog(_)), "{named:?}");
}

#[test]
fn an_unknown_value_is_kept_and_a_bad_variant_is_an_error() {
    let parrot = json!({"kind": "parrot", "words": 12});
    let pet: v30::Pet = serde_json::from_value(parrot.clone()).unwrap();
    assert_eq!(pet, v30::Pet::Unknown(parrot.clone()));
    assert_eq!(serde_json::to_value(&pet).unwrap(), parrot);
    // A known value whose body does not fit its schema is an error, not `Unknown`.
    assert!(serde_json::from_value::<v30::Pet>(json!({"kind": "cat", "lives": "nine"})).is_err());
}

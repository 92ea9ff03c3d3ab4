//! Typed ids: a person's id cannot be handed where another record's is meant.

/// Defines an id type: opaque text as latch made it, compared and hashed as that text.
macro_rules! id_type {
    ($name:ident, $what:literal) => {
        #[doc = concat!("The id of ", $what, ".")]
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// A new random id.
            pub fn generate() -> Self {
                $name(crate::crypto::new_id())
            }

            /// An id as the database stored it, or as a request named it (which may name
            /// nothing: the lookup answers that).
            pub fn from_stored(id: impl Into<String>) -> Self {
                $name(id.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(PersonId, "a person: staff, client, manager or owner");
id_type!(
    SessionId,
    "a session: the id people see in their list, never its cookie token"
);
id_type!(PracticeId, "a practice");

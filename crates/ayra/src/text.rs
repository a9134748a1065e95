//! What an optional text field of a request body accepts.

/// A value for an optional text field of a request body: `"text"`, a
/// `String`, `Some(string)` or `None`.
///
/// ```
/// use ayra::types::ContactCreate;
/// let contact = ContactCreate::builder()
///     .first_name("Ada")
///     .email("ada@example.com")
///     .last_name(None);
/// let contact = ContactCreate::try_from(contact).unwrap();
/// assert_eq!(contact.email.as_deref(), Some("ada@example.com"));
/// assert_eq!(contact.last_name, None);
/// ```
pub trait IntoOptionalString {
    /// The value as the field holds it.
    fn into_optional_string(self) -> Option<String>;
}

impl IntoOptionalString for &str {
    fn into_optional_string(self) -> Option<String> {
        Some(self.to_string())
    }
}

impl IntoOptionalString for String {
    fn into_optional_string(self) -> Option<String> {
        Some(self)
    }
}

impl IntoOptionalString for &String {
    fn into_optional_string(self) -> Option<String> {
        Some(self.clone())
    }
}

impl IntoOptionalString for Option<String> {
    fn into_optional_string(self) -> Option<String> {
        self
    }
}

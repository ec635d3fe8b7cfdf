//! Which agent names are valid: they become branch names (`agent/NAME`)
//! and directory names.

/// Agent names become branch names (`agent/NAME`) and directory names.
pub fn validate_name(name: &str) -> std::result::Result<(), String> {
    if name.is_empty() {
        return Err("the name is empty".into());
    }
    if name.len() > 64 {
        return Err("the name is longer than 64 characters".into());
    }
    let first = name.chars().next().unwrap_or('-');
    if !first.is_ascii_alphanumeric() {
        return Err("it must start with a letter or digit".into());
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!("'{bad}' is not allowed"));
    }
    if name.contains("..") || name.ends_with('.') || name.ends_with(".lock") {
        return Err("it may not contain '..' or end with '.' or '.lock'".into());
    }
    Ok(())
}

//! The manifest edit: leakcheck added to a package's `[dev-dependencies]`, as the manifest
//! is written.

use std::path::PathBuf;

use toml_edit::{DocumentMut, InlineTable, Item, Table, value};

use crate::paths::relative;
use crate::workspace::Package;

/// Where leakcheck comes from.
pub(super) enum Dependency {
    Path(PathBuf),
    Version(String),
}

/// `manifest` with leakcheck among its `[dev-dependencies]`, formatting and comments kept;
/// unchanged if it already depends on leakcheck.
pub(super) fn add_dev_dependency(
    manifest: &str,
    dependency: &Dependency,
    package: &Package,
) -> Result<String, String> {
    let mut document: DocumentMut = manifest
        .parse()
        .map_err(|error| format!("cannot read {}: {error}", package.manifest.display()))?;
    let already = ["dependencies", "dev-dependencies"].iter().any(|table| {
        document
            .get(table)
            .and_then(|table| table.get("leakcheck"))
            .is_some()
    });
    if already {
        return Ok(manifest.to_owned());
    }
    let dev_dependencies = document
        .entry("dev-dependencies")
        .or_insert_with(|| Item::Table(Table::new()));
    let Some(dev_dependencies) = dev_dependencies.as_table_like_mut() else {
        return Err(format!(
            "{}: `dev-dependencies` is not a table",
            package.manifest.display()
        ));
    };
    // A manifest that writes `[dev-dependencies.tokio]` gets `[dev-dependencies.leakcheck]`.
    let dotted = dev_dependencies.is_dotted()
        || dev_dependencies
            .iter()
            .next()
            .is_some_and(|(_, entry)| entry.is_table());
    let mut fields: Vec<(&str, toml_edit::Value)> = Vec::new();
    match dependency {
        Dependency::Version(requirement) => fields.push(("version", requirement.as_str().into())),
        Dependency::Path(path) => fields.push((
            "path",
            relative(path, &package.root).display().to_string().into(),
        )),
    }
    let entry = if dotted {
        let mut table = Table::new();
        for (key, field) in fields {
            table.insert(key, value(field));
        }
        Item::Table(table)
    } else if let [("version", version)] = fields.as_slice() {
        value(version.clone())
    } else {
        let mut table = InlineTable::new();
        for (key, field) in fields {
            table.insert(key, field);
        }
        value(table)
    };
    dev_dependencies.insert("leakcheck", entry);
    let edited = document.to_string();
    // toml_edit writes the lines it adds with `\n`; a manifest written with `\r\n` keeps it.
    if manifest.contains("\r\n") {
        return Ok(edited.replace("\r\n", "\n").replace('\n', "\r\n"));
    }
    Ok(edited)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn the_dev_dependency_keeps_the_manifest_as_written() {
        let package = Package {
            name: "feed".to_owned(),
            manifest: PathBuf::from("/work/feed/Cargo.toml"),
            root: PathBuf::from("/work/feed"),
            target_roots: Vec::new(),
            test_targets: Vec::new(),
        };
        let manifest = "[package]\nname = \"feed\" # the feed\n\n[dev-dependencies]\n# runtime for tests\ntokio = { version = \"1\", features = [\"full\"] }\n";
        let edited = add_dev_dependency(manifest, &Dependency::Version("0.1".to_owned()), &package)
            .expect("edited");
        assert_eq!(edited, format!("{manifest}leakcheck = \"0.1\"\n"));
        let again = add_dev_dependency(&edited, &Dependency::Version("0.1".to_owned()), &package)
            .expect("edited");
        assert_eq!(again, edited);
        let local = add_dev_dependency(
            "[package]\nname = \"feed\"\n",
            &Dependency::Path(PathBuf::from("/work/leakcheck")),
            &package,
        )
        .expect("edited");
        assert_eq!(
            local,
            "[package]\nname = \"feed\"\n\n[dev-dependencies]\nleakcheck = { path = \"../leakcheck\" }\n"
        );
        let crlf = add_dev_dependency(
            "[package]\r\nname = \"feed\"\r\n\r\n[dev-dependencies]\r\ntokio = \"1\"\r\n",
            &Dependency::Version("0.1".to_owned()),
            &package,
        )
        .expect("edited");
        assert_eq!(
            crlf,
            "[package]\r\nname = \"feed\"\r\n\r\n[dev-dependencies]\r\ntokio = \"1\"\r\nleakcheck = \"0.1\"\r\n"
        );
        let dotted = add_dev_dependency(
            "[package]\nname = \"feed\"\n\n[dev-dependencies.tokio]\nversion = \"1\"\n",
            &Dependency::Version("0.1".to_owned()),
            &package,
        )
        .expect("edited");
        assert_eq!(
            dotted,
            "[package]\nname = \"feed\"\n\n[dev-dependencies.tokio]\nversion = \"1\"\n\n[dev-dependencies.leakcheck]\nversion = \"0.1\"\n"
        );
    }
}

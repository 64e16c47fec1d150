//! The shape of the code, checked: features meet through each other's public interface (what
//! a feature's `mod.rs` declares or re-exports), never through another feature's `repo` or
//! `handlers`; and the mail layer, which every feature uses, names no feature.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
}

/// The folders under `src/`: the features, and the foundations (`db`, `auth`, `mail`, ...).
fn modules(src: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(src)
        .unwrap()
        .filter_map(|e| {
            let path = e.unwrap().path();
            path.is_dir()
                .then(|| path.file_name().unwrap().to_string_lossy().into_owned())
        })
        .collect();
    names.sort();
    names
}

/// The module folder a file belongs to (`None` for `src/*.rs`).
fn owner(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).unwrap();
    let mut parts = relative.components();
    let first = parts.next()?.as_os_str().to_string_lossy().into_owned();
    parts.next().map(|_| first)
}

/// Every `crate::<module>::repo` or `::handlers` a line reaches, braces included
/// (`use crate::comments::{self, repo as c}`).
fn reaches(line: &str, module: &str) -> bool {
    let code = line.split("//").next().unwrap_or("");
    let prefix = format!("crate::{module}::");
    let mut rest = code;
    while let Some(at) = rest.find(&prefix) {
        let after = &rest[at + prefix.len()..];
        let inside = if let Some(group) = after.strip_prefix('{') {
            group.split('}').next().unwrap_or("")
        } else {
            after
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .next()
                .unwrap_or("")
        };
        let names = inside.split([',', ' ', ':']).map(str::trim);
        if names.into_iter().any(|n| n == "repo" || n == "handlers") {
            return true;
        }
        rest = after;
    }
    false
}

#[test]
fn features_use_only_each_others_public_interface() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules = modules(&src);
    let mut found = Vec::new();
    for file in &files {
        let mine = owner(&src, file);
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            for module in &modules {
                if Some(module) != mine.as_ref() && reaches(line, module) {
                    found.push(format!(
                        "{}:{}: {}",
                        file.strip_prefix(&src).unwrap().display(),
                        n + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "use the feature's public interface (its mod.rs) instead:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_mail_layer_names_no_feature() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src.join("mail"), &mut files);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for feature in [
            "accounts",
            "articles",
            "comments",
            "discussions",
            "moderation",
            "newsletter",
        ] {
            assert!(
                !text.contains(&format!("crate::{feature}")),
                "{} names {feature}: features tell the mail layer what they need (mail::Recipients)",
                file.display()
            );
        }
    }
}

#[test]
fn the_checker_sees_what_it_should() {
    assert!(reaches(
        "use crate::comments::repo as comments;",
        "comments"
    ));
    assert!(reaches(
        "use crate::discussions::{self, repo as d};",
        "discussions"
    ));
    assert!(reaches(
        "crate::newsletter::repo::is_confirmed(conn, s)",
        "newsletter"
    ));
    assert!(reaches(
        "use crate::accounts::handlers::{NewAccount};",
        "accounts"
    ));
    assert!(!reaches(
        "use crate::comments::{self, DELETED};",
        "comments"
    ));
    assert!(!reaches(
        "// crate::comments::repo in a comment",
        "comments"
    ));
    assert!(!reaches("use crate::comments::repository;", "comments"));
}

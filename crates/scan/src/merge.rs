//! The merge: applies each layer's whiteouts, opaque directories and replacements to the layers
//! below it, in order, and says for every entry of every layer whether it is in the final
//! filesystem, or which layer removed or replaced it.

use std::collections::BTreeMap;

use stowaway_findings::{EntryType, FileStatus};

use crate::walk::{EntryKind, LayerEntry};

/// The current filesystem: path → (layer, entry) of the entry that provides it.
type Current<'a> = BTreeMap<&'a str, (usize, usize)>;

/// Takes `prefix` (when `include_self`) and everything under `prefix/` out of the current
/// filesystem, marking what it takes with `status`. `under` is scratch space for `prefix/`.
fn remove(
    current: &mut Current,
    result: &mut [Vec<FileStatus>],
    prefix: &str,
    include_self: bool,
    status: FileStatus,
    under: &mut String,
) {
    let mut take = |path: &str, current: &mut Current| {
        if let Some((l, e)) = current.remove(path) {
            result[l][e] = status;
        }
    };
    if prefix.is_empty() {
        while let Some((&path, _)) = current.first_key_value() {
            take(path, current);
        }
        return;
    }
    if include_self {
        take(prefix, current);
    }
    under.clear();
    under.push_str(prefix);
    under.push('/');
    // `a/` sorts after `a-b`, so children are a range of their own.
    while let Some((&child, _)) = current
        .range(under.as_str()..)
        .next()
        .filter(|(path, _)| path.starts_with(under.as_str()))
    {
        take(child, current);
    }
}

/// Statuses, indexed like the input: `statuses[layer][entry]`. Whiteout and opaque markers get
/// `Present` (they are not files; callers skip them).
pub fn statuses(layers: &[&[LayerEntry]]) -> Vec<Vec<FileStatus>> {
    let mut result: Vec<Vec<FileStatus>> = layers
        .iter()
        .map(|entries| vec![FileStatus::Present; entries.len()])
        .collect();
    let mut current = Current::new();
    let mut under = String::new();

    for (layer, entries) in layers.iter().enumerate() {
        let removed = FileStatus::Removed { layer };
        // Markers act on lower layers only, so they go first.
        for entry in entries.iter() {
            let include_self = match entry.kind {
                EntryKind::Opaque => false,
                EntryKind::Whiteout => true,
                EntryKind::Fs(_) => continue,
            };
            let path = entry.path.as_str();
            remove(
                &mut current,
                &mut result,
                path,
                include_self,
                removed,
                &mut under,
            );
        }
        for (index, entry) in entries.iter().enumerate() {
            let EntryKind::Fs(entry_type) = entry.kind else {
                continue;
            };
            if entry_type != EntryType::Dir {
                // A file where a directory was hides everything below it.
                remove(
                    &mut current,
                    &mut result,
                    &entry.path,
                    false,
                    removed,
                    &mut under,
                );
            }
            if let Some((l, e)) = current.insert(&entry.path, (layer, index)) {
                result[l][e] = FileStatus::Replaced { layer };
            }
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, kind: EntryKind) -> LayerEntry {
        LayerEntry {
            path: path.into(),
            kind,
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: 0,
            sha256: None,
            link: None,
        }
    }

    fn file(path: &str) -> LayerEntry {
        entry(path, EntryKind::Fs(EntryType::File))
    }

    fn dir(path: &str) -> LayerEntry {
        entry(path, EntryKind::Fs(EntryType::Dir))
    }

    #[test]
    fn whiteouts_opaque_dirs_and_replacements() {
        let base = vec![
            dir("etc"),
            file("etc/passwd"),
            dir("app"),
            file("app/a"),
            file("app/sub/b"),
            file("tmp/x"),
        ];
        let second = vec![
            entry("tmp/x", EntryKind::Whiteout),
            entry("app", EntryKind::Opaque),
            file("app/new"),
            file("etc/passwd"),
        ];
        let third = vec![entry("app", EntryKind::Whiteout)];
        let statuses = statuses(&[&base, &second, &third]);
        use FileStatus::*;
        assert_eq!(
            statuses[0],
            vec![
                Present,
                Replaced { layer: 1 },
                Removed { layer: 2 },
                Removed { layer: 1 },
                Removed { layer: 1 },
                Removed { layer: 1 }
            ]
        );
        assert_eq!(
            statuses[1],
            vec![Present, Present, Removed { layer: 2 }, Present]
        );
    }

    #[test]
    fn a_file_over_a_directory_hides_its_children() {
        let base = vec![dir("opt"), file("opt/tool")];
        let second = vec![file("opt")];
        let statuses = statuses(&[&base, &second]);
        assert_eq!(
            statuses[0],
            vec![
                FileStatus::Replaced { layer: 1 },
                FileStatus::Removed { layer: 1 }
            ]
        );
        assert_eq!(statuses[1], vec![FileStatus::Present]);
    }

    #[test]
    fn whiteout_does_not_touch_siblings_sharing_a_prefix() {
        let base = vec![
            dir("usr/lib/a"),
            file("usr/lib/a-b"),
            file("usr/lib/a.so"),
            file("usr/lib/a/x"),
        ];
        let second = vec![entry("usr/lib/a", EntryKind::Whiteout)];
        let statuses = statuses(&[&base, &second]);
        use FileStatus::*;
        assert_eq!(
            statuses[0],
            vec![Removed { layer: 1 }, Present, Present, Removed { layer: 1 }]
        );
    }

    #[test]
    fn root_opaque_hides_everything_below() {
        let base = vec![file("a"), file("b/c")];
        let second = vec![entry("", EntryKind::Opaque), file("d")];
        let statuses = statuses(&[&base, &second]);
        assert_eq!(statuses[0], vec![FileStatus::Removed { layer: 1 }; 2]);
        assert_eq!(statuses[1], vec![FileStatus::Present; 2]);
    }
}

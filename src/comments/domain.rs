//! The pure rules of comment trees: paths, the depth cap, and assembling a page's rows into
//! nested threads.

use std::collections::HashMap;

/// Digits of one path segment: ids up to 999,999,999,999 (see the migration).
pub const SEGMENT: usize = 12;

/// Where a comment stands; stored as its lowercase name.
#[derive(Debug, Clone, Copy, serde::Serialize, utoipa::ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CommentStatus {
    Visible,
    /// Hidden by a moderator.
    Hidden,
    Deleted,
    /// Held for a moderator (premoderation): seen only by its author and moderators.
    Pending,
    /// Refused by a moderator after it was held: seen only by moderators.
    Rejected,
}

impl CommentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CommentStatus::Visible => "visible",
            CommentStatus::Hidden => "hidden",
            CommentStatus::Deleted => "deleted",
            CommentStatus::Pending => "pending",
            CommentStatus::Rejected => "rejected",
        }
    }

    /// Whether readers' threads show it (visible, or in its place as hidden or deleted).
    /// Held and rejected comments were never published: they have no place there.
    pub fn published(self) -> bool {
        !matches!(self, CommentStatus::Pending | CommentStatus::Rejected)
    }
}

/// Whose held comments a page of threads shows besides the published ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Held {
    /// None: what every reader sees.
    None,
    /// This reader's own, marked `pending`.
    Of(i64),
    /// All, held and rejected (moderators).
    All,
}

impl crate::db::FromName for CommentStatus {
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "visible" => Some(CommentStatus::Visible),
            "hidden" => Some(CommentStatus::Hidden),
            "deleted" => Some(CommentStatus::Deleted),
            "pending" => Some(CommentStatus::Pending),
            "rejected" => Some(CommentStatus::Rejected),
            _ => None,
        }
    }
}

impl From<crate::db::Named<CommentStatus>> for CommentStatus {
    fn from(named: crate::db::Named<CommentStatus>) -> Self {
        named.0
    }
}

const LARGEST_ID: i64 = 999_999_999_999;

/// The deepest a comment may sit: roots are at depth 0, so threads show at most 8 levels. A
/// reply to a comment at this depth becomes its sibling (it attaches to the deepest allowed
/// ancestor), so long back-and-forths stay readable on a phone.
pub const MAX_DEPTH: i32 = 7;

/// The path segment of comment `id`: its id as 12 zero-padded digits.
pub fn segment(id: i64) -> Option<String> {
    (0..=LARGEST_ID)
        .contains(&id)
        .then(|| format!("{id:0width$}", width = SEGMENT))
}

/// Where a thread (a root and its replies) ends in path order: every path that starts with
/// `root_path` sorts before this (segments are digits, and `:` sorts after `9`).
pub fn thread_end(root_path: &str) -> String {
    format!("{root_path}:")
}

/// The root a path belongs to: its first segment's id.
pub fn root_of(path: &str) -> Option<i64> {
    path.get(..SEGMENT)?.parse().ok()
}

/// Where a reply goes: `(parent_id, depth, parent path)` for a reply to a comment with this
/// `(id, parent_id, depth, path)`. Past the depth cap, it attaches to the target's parent.
pub fn attach_reply(
    target_id: i64,
    target_parent: Option<i64>,
    target_depth: i32,
    target_path: &str,
) -> (i64, i32, String) {
    if target_depth < MAX_DEPTH {
        return (target_id, target_depth + 1, target_path.to_string());
    }
    // At the cap the target has a parent (MAX_DEPTH > 0), whose path is the target's minus
    // its last segment.
    let parent = target_parent.unwrap_or(target_id);
    let parent_path = &target_path[..target_path.len().saturating_sub(SEGMENT)];
    (parent, target_depth, parent_path.to_string())
}

/// Whether `path` could be the path of a comment in root `root`'s thread: whole segments of
/// digits, starting with the root's, no deeper than the cap.
pub fn is_path_in(path: &str, root: i64) -> bool {
    let Some(root_path) = segment(root) else {
        return false;
    };
    path.len().is_multiple_of(SEGMENT)
        && path.len() <= SEGMENT * (MAX_DEPTH as usize + 1)
        && path.bytes().all(|b| b.is_ascii_digit())
        && path.starts_with(&root_path)
}

/// How many of the rows (their sizes, in order) fit in `max_rows` rows and `max_bytes` bytes.
pub fn fitting(sizes: impl IntoIterator<Item = usize>, max_rows: usize, max_bytes: usize) -> usize {
    let mut total = 0;
    let mut count = 0;
    for size in sizes {
        total += size;
        if count >= max_rows || total > max_bytes {
            break;
        }
        count += 1;
    }
    count
}

/// The ids of the rows whose parent is not among them, in order: the tops of a forest.
pub fn tops<T: Node>(rows: &[T]) -> Vec<i64> {
    let ids: std::collections::HashSet<i64> = rows.iter().map(Node::id).collect();
    rows.iter()
        .filter(|r| r.parent_id().is_none_or(|p| !ids.contains(&p)))
        .map(Node::id)
        .collect()
}

/// Something that sits in a tree: its id and its parent's.
pub trait Node {
    fn id(&self) -> i64;
    fn parent_id(&self) -> Option<i64>;
}

/// Builds threads from rows in path order (a parent always before its replies). Returns the
/// roots in the order given by `root_order` (ids), each with its replies nested, in path order.
/// Rows whose parent is not among the rows are dropped (only possible at a cut page's end).
pub fn assemble<T: Node, U>(
    rows: Vec<T>,
    root_order: &[i64],
    mut make: impl FnMut(T, Vec<U>) -> U,
) -> Vec<U> {
    let index: HashMap<i64, usize> = rows.iter().enumerate().map(|(i, r)| (r.id(), i)).collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); rows.len()];
    for (i, row) in rows.iter().enumerate() {
        if let Some(parent) = row.parent_id().and_then(|p| index.get(&p)) {
            children[*parent].push(i);
        }
    }
    let mut slots: Vec<Option<T>> = rows.into_iter().map(Some).collect();
    // Children come after their parents in path order, so building from the end finishes every
    // reply before its parent needs it.
    let mut built: Vec<Option<U>> = (0..slots.len()).map(|_| None).collect();
    for i in (0..slots.len()).rev() {
        let kids = children[i]
            .iter()
            .filter_map(|&k| built[k].take())
            .collect();
        if let Some(row) = slots[i].take() {
            built[i] = Some(make(row, kids));
        }
    }
    root_order
        .iter()
        .filter_map(|id| index.get(id).and_then(|&i| built[i].take()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Row(i64, Option<i64>);

    impl Node for Row {
        fn id(&self) -> i64 {
            self.0
        }
        fn parent_id(&self) -> Option<i64> {
            self.1
        }
    }

    #[derive(Debug, PartialEq)]
    struct Tree(i64, Vec<Tree>);

    #[test]
    fn segments_are_fixed_width_and_sort_like_ids() {
        assert_eq!(segment(42).unwrap(), "000000000042");
        assert!(segment(9).unwrap() < segment(10).unwrap());
        assert!(segment(LARGEST_ID + 1).is_none());
        assert!(segment(-1).is_none());
        let root = segment(7).unwrap();
        let reply = format!("{root}{}", segment(999).unwrap());
        assert!(reply > root && reply < thread_end(&root));
        assert!(segment(8).unwrap() > thread_end(&root));
        assert_eq!(root_of(&reply), Some(7));
    }

    #[test]
    fn replies_past_the_cap_attach_to_the_deepest_allowed_ancestor() {
        assert_eq!(attach_reply(5, None, 0, "a"), (5, 1, "a".into()));
        let path = "x".repeat(SEGMENT * (MAX_DEPTH as usize + 1));
        let (parent, depth, parent_path) = attach_reply(9, Some(8), MAX_DEPTH, &path);
        assert_eq!((parent, depth), (8, MAX_DEPTH));
        assert_eq!(parent_path.len(), SEGMENT * MAX_DEPTH as usize);
    }

    #[test]
    fn pages_fit_by_rows_and_bytes() {
        assert_eq!(fitting([10, 10, 10], 2, 100), 2);
        assert_eq!(fitting([10, 10, 10], 5, 25), 2);
        assert_eq!(fitting([10, 10, 10], 5, 100), 3);
        assert_eq!(fitting([500], 5, 100), 0);
        assert!(is_path_in("000000000007000000000009", 7));
        assert!(!is_path_in("000000000008000000000009", 7));
        assert!(!is_path_in("00000000000700000000000x", 7));
        assert!(!is_path_in("0000000000070", 7));
        assert!(!is_path_in(&"000000000007".repeat(9), 7));
    }

    #[test]
    fn a_part_of_a_thread_is_a_forest() {
        let rows = vec![Row(3, Some(2)), Row(4, Some(3)), Row(5, Some(1))];
        assert_eq!(tops(&rows), vec![3, 5]);
    }

    #[test]
    fn rows_in_path_order_become_nested_threads() {
        // 1 ─ 2 ─ 3
        //   └ 4
        // 5
        let rows = vec![
            Row(1, None),
            Row(2, Some(1)),
            Row(3, Some(2)),
            Row(4, Some(1)),
            Row(5, None),
        ];
        let trees = assemble(rows, &[5, 1], |row, kids| Tree(row.0, kids));
        assert_eq!(
            trees,
            vec![
                Tree(5, vec![]),
                Tree(1, vec![Tree(2, vec![Tree(3, vec![])]), Tree(4, vec![])]),
            ]
        );
    }
}

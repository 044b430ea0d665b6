//! Remembered positions in long key lists, so that a deep page need not step over every
//! key before it.
//!
//! SQLite answers `LIMIT n OFFSET m` by reading and discarding `m` index entries: page 300
//! of 255 keys walks 76,245 of them, several milliseconds of CPU per request. A list's
//! *marks* are the sort keys of every [`STRIDE`]th row (positions `STRIDE`, `2 × STRIDE`, …);
//! a page then starts from the nearest mark at or before its offset (`sort key ≥ mark`,
//! served by the list index) and walks at most `STRIDE` rows.
//!
//! Marks hold no credential and no row content beyond where rows sort; they are taken, and
//! used, only at the list's *version*, a counter the database's triggers bump in the same
//! transaction as any change that can move a row in or out of the list or along it
//! (migration `key_list_version`). A request reads the version in its own snapshot, so marks
//! from any other state of the list are never used: the answer is the same as a full walk.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use diesel::QueryResult;

/// Rows between two marks: the most a page walks past before its first row.
pub const STRIDE: i64 = 1_024;

/// Lists remembered at once; past this, all are forgotten and taken again as needed.
const MAX_LISTS: usize = 64;

/// Where a row sorts in a key list: by name, then creation, then id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SortKey {
    pub name: String,
    pub creation: i64,
    pub id: i32,
}

/// Which list: a project's keys, live or revoked, in one direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ListId {
    pub project_id: i32,
    pub revoked: bool,
    pub desc: bool,
}

struct Marks {
    version: i64,
    /// `keys[i]` is the sort key of the row at position `(i + 1) × STRIDE`.
    keys: Vec<SortKey>,
    /// A step found no row: the list ends before the next mark.
    complete: bool,
}

/// The marks of the lists read so far (one set per database).
#[derive(Default)]
pub struct PageMarks {
    lists: Mutex<HashMap<ListId, Marks>>,
}

impl PageMarks {
    /// Where a page at `offset` should start: the position and sort key of the nearest mark
    /// at or before it, or `None` to start at the beginning. Missing marks are taken with
    /// `step(after)`, which returns the sort key `STRIDE` rows past `after` (the row at
    /// position `STRIDE` for `None`), or `None` past the end of the list.
    pub fn start<F>(
        &self,
        list: ListId,
        version: i64,
        offset: i64,
        mut step: F,
    ) -> QueryResult<Option<(i64, SortKey)>>
    where
        F: FnMut(Option<&SortKey>) -> QueryResult<Option<SortKey>>,
    {
        let wanted = usize::try_from(offset / STRIDE).unwrap_or(usize::MAX);
        if wanted == 0 {
            return Ok(None);
        }
        // Copy out what is known for this version; walk the rest without holding the lock.
        let (mut keys, mut complete) = {
            let lists = self.lock();
            match lists.get(&list) {
                Some(m) if m.version == version => {
                    if let Some(key) = m.keys.get(wanted - 1) {
                        return Ok(Some((position(wanted), key.clone())));
                    }
                    (m.keys.clone(), m.complete)
                }
                _ => (Vec::new(), false),
            }
        };
        let known = keys.len();
        while keys.len() < wanted && !complete {
            match step(keys.last())? {
                Some(key) => keys.push(key),
                None => complete = true,
            }
        }
        let found = keys.last().map(|key| (position(keys.len()), key.clone()));
        if keys.len() > known || complete {
            self.keep(list, version, keys, complete);
        }
        Ok(found)
    }

    /// Stores `keys` unless newer (or more) marks for this list are already there.
    fn keep(&self, list: ListId, version: i64, keys: Vec<SortKey>, complete: bool) {
        let mut lists = self.lock();
        if let Some(m) = lists.get(&list) {
            let newer = m.version > version;
            let more = m.version == version && (m.keys.len() > keys.len() || m.complete);
            if newer || more {
                return;
            }
        } else if lists.len() >= MAX_LISTS {
            lists.clear();
        }
        lists.insert(
            list,
            Marks {
                version,
                keys,
                complete,
            },
        );
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ListId, Marks>> {
        self.lists.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The position of the `n`th mark (1-based).
fn position(n: usize) -> i64 {
    i64::try_from(n).map_or(i64::MAX, |n| n.saturating_mul(STRIDE))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: ListId = ListId {
        project_id: 1,
        revoked: false,
        desc: false,
    };

    fn key(n: i64) -> SortKey {
        SortKey {
            name: format!("k{n:08}"),
            creation: n,
            id: i32::try_from(n).unwrap(),
        }
    }

    /// A list of `len` rows whose row at position p sorts as `key(p)`; counts the steps.
    fn stepper(
        len: i64,
        steps: &mut usize,
    ) -> impl FnMut(Option<&SortKey>) -> QueryResult<Option<SortKey>> + '_ {
        move |after| {
            *steps += 1;
            let next = after.map_or(STRIDE, |k| k.creation + STRIDE);
            Ok((next < len).then(|| key(next)))
        }
    }

    #[test]
    fn marks_are_taken_once_per_version_and_only_as_far_as_needed() {
        let marks = PageMarks::default();
        let mut steps = 0;
        assert_eq!(
            marks
                .start(LIST, 1, 500, stepper(10_000, &mut steps))
                .unwrap(),
            None
        );
        assert_eq!(steps, 0);
        let got = marks
            .start(LIST, 1, 3 * STRIDE + 7, stepper(10_000, &mut steps))
            .unwrap();
        assert_eq!(got, Some((3 * STRIDE, key(3 * STRIDE))));
        assert_eq!(steps, 3);
        // Known now: no more steps, nearer offsets too.
        let got = marks
            .start(LIST, 1, 2 * STRIDE, stepper(10_000, &mut steps))
            .unwrap();
        assert_eq!(got, Some((2 * STRIDE, key(2 * STRIDE))));
        assert_eq!(steps, 3);
        // Further: only the missing marks are taken.
        marks
            .start(LIST, 1, 5 * STRIDE, stepper(10_000, &mut steps))
            .unwrap();
        assert_eq!(steps, 5);
        // Another version: taken again from the start.
        marks
            .start(LIST, 2, 2 * STRIDE, stepper(10_000, &mut steps))
            .unwrap();
        assert_eq!(steps, 7);
        // Another direction is another list.
        let desc = ListId { desc: true, ..LIST };
        marks
            .start(desc, 2, STRIDE, stepper(10_000, &mut steps))
            .unwrap();
        assert_eq!(steps, 8);
    }

    #[test]
    fn past_the_end_the_last_mark_is_used_and_the_end_is_remembered() {
        let marks = PageMarks::default();
        let mut steps = 0;
        // 2,500 rows: marks at 1,024 and 2,048 only.
        let got = marks
            .start(LIST, 1, 50 * STRIDE, stepper(2_500, &mut steps))
            .unwrap();
        assert_eq!(got, Some((2 * STRIDE, key(2 * STRIDE))));
        assert_eq!(steps, 3);
        marks
            .start(LIST, 1, 60 * STRIDE, stepper(2_500, &mut steps))
            .unwrap();
        assert_eq!(steps, 3);
    }

    #[test]
    fn an_older_version_never_replaces_a_newer_one() {
        let marks = PageMarks::default();
        let mut steps = 0;
        marks
            .start(LIST, 5, 2 * STRIDE, stepper(10_000, &mut steps))
            .unwrap();
        // A reader on an older snapshot takes its own marks but does not keep them.
        marks
            .start(LIST, 4, 3 * STRIDE, stepper(10_000, &mut steps))
            .unwrap();
        assert_eq!(steps, 5);
        marks
            .start(LIST, 5, 2 * STRIDE, stepper(10_000, &mut steps))
            .unwrap();
        assert_eq!(steps, 5);
    }
}

//! A [`ProfileStore`] in front of another that names, as it answers, the
//! frames stored without a name (`FILE+0xOFFSET` in one of the series'
//! [`ObjectFile`]s) with whatever [`FrameNamer`] can find for their build
//! (`serve --debuginfo-dir`). Stacks that become equal (two offsets in one
//! function) are merged again. Writes and everything but the stacks pass
//! through, except that a search for the spans of a frame (`span_hits`)
//! asks for the stored names that now carry the name searched for.

use super::combine::MergeBuilder;
use super::{
    MergedStacks, ObjectFile, ProfileQuery, ProfileStore, ProfileWrite, SpanHit, TickMerge,
    TotalSeries,
};
use crate::series::Matcher;
use crate::{StoreError, WriteAck};
use model::metrics::Labels;
use std::sync::Arc;

/// Names file offsets of object files.
pub trait FrameNamer: Send + Sync + 'static {
    /// The function names at `offsets` of `object` (aligned with them;
    /// `None` where unknown).
    fn names(&self, object: &ObjectFile, offsets: &[u64]) -> Vec<Option<String>>;
}

/// The store `inner`, answering with frames named by `namer`.
pub struct Resymbolizing {
    inner: Arc<dyn ProfileStore>,
    namer: Arc<dyn FrameNamer>,
}

impl Resymbolizing {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn ProfileStore>, namer: Arc<dyn FrameNamer>) -> Self {
        Self { inner, namer }
    }

    /// What `namer` calls each of `names` (aligned with them; `None`
    /// where the name is not a frame of `objects` or stays unknown).
    fn new_names(&self, names: &[String], objects: &[ObjectFile]) -> Vec<Option<String>> {
        let mut out = vec![None; names.len()];
        // Per object file: (name id, offset) of its frames.
        let mut wanted: Vec<Vec<(usize, u64)>> = vec![Vec::new(); objects.len()];
        for (id, name) in names.iter().enumerate() {
            if let Some((at, offset)) = ObjectFile::locate(objects, name) {
                wanted[at].push((id, offset));
            }
        }
        for (object, frames) in objects.iter().zip(&wanted) {
            if frames.is_empty() {
                continue;
            }
            let offsets: Vec<u64> = frames.iter().map(|&(_, o)| o).collect();
            for (&(id, _), name) in frames.iter().zip(self.namer.names(object, &offsets)) {
                out[id] = name;
            }
        }
        out
    }

    /// `stacks` with the frames of `objects` named where `namer` can.
    fn rename(&self, stacks: MergedStacks, objects: &[ObjectFile]) -> MergedStacks {
        if objects.is_empty() {
            return stacks;
        }
        let new_names = self.new_names(&stacks.names, objects);
        if new_names.iter().all(Option::is_none) {
            return stacks;
        }
        let names = stacks
            .names
            .into_iter()
            .zip(new_names)
            .map(|(old, new)| new.unwrap_or(old))
            .collect();
        MergeBuilder::dedup(MergedStacks { names, ..stacks })
    }

    /// The stored names of the query's frames that [`Self::rename`] calls
    /// `frame` (empty when none is renamed to it).
    fn stored_names_of(
        &self,
        query: &ProfileQuery,
        frame: &str,
    ) -> Result<Vec<String>, StoreError> {
        let objects = self.inner.objects(query)?;
        if objects.is_empty() {
            return Ok(Vec::new());
        }
        let stacks = self.inner.merge(query)?;
        let new_names = self.new_names(&stacks.names, &objects);
        Ok(stacks
            .names
            .into_iter()
            .zip(new_names)
            .filter(|(_, new)| new.as_deref() == Some(frame))
            .map(|(old, _)| old)
            .collect())
    }
}

impl ProfileStore for Resymbolizing {
    fn write(&self, profiles: Vec<ProfileWrite>) -> Result<WriteAck, StoreError> {
        self.inner.write(profiles)
    }

    fn profile_types(&self, start_ns: i64, end_ns: i64) -> Result<Vec<String>, StoreError> {
        self.inner.profile_types(start_ns, end_ns)
    }

    fn series(
        &self,
        matchers: &[Matcher],
        start_ns: i64,
        end_ns: i64,
    ) -> Result<Vec<Labels>, StoreError> {
        self.inner.series(matchers, start_ns, end_ns)
    }

    fn merge(&self, query: &ProfileQuery) -> Result<MergedStacks, StoreError> {
        let stacks = self.inner.merge(query)?;
        let objects = self.inner.objects(query)?;
        Ok(self.rename(stacks, &objects))
    }

    fn totals(
        &self,
        query: &ProfileQuery,
        step_ns: i64,
        group_by: &[String],
    ) -> Result<Vec<TotalSeries>, StoreError> {
        self.inner.totals(query, step_ns, group_by)
    }

    fn span_hits(
        &self,
        query: &ProfileQuery,
        frame: Option<&str>,
        limit: usize,
    ) -> Result<Vec<SpanHit>, StoreError> {
        let Some(frame) = frame else {
            return self.inner.span_hits(query, None, limit);
        };
        // The stored names that are now called `frame`, each asked for.
        let stored = self.stored_names_of(query, frame)?;
        if stored.is_empty() {
            return self.inner.span_hits(query, Some(frame), limit);
        }
        let mut parts = Vec::with_capacity(stored.len());
        for name in &stored {
            parts.push(self.inner.span_hits(query, Some(name), usize::MAX)?);
        }
        Ok(super::combine::span_hits(parts, limit))
    }

    fn merge_ticks(&self, query: &ProfileQuery, threads: &[u32]) -> Result<TickMerge, StoreError> {
        let mut merged = self.inner.merge_ticks(query, threads)?;
        let objects = self.inner.objects(query)?;
        merged.stacks = self.rename(merged.stacks, &objects);
        Ok(merged)
    }

    fn objects(&self, query: &ProfileQuery) -> Result<Vec<ObjectFile>, StoreError> {
        self.inner.objects(query)
    }

    fn time_bounds(&self) -> Result<Option<(i64, i64)>, StoreError> {
        self.inner.time_bounds()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profiles::{EmbeddedProfileStore, StackSample, PROFILE_TYPE_LABEL};

    const CPU: &str = "process_cpu:cpu:nanoseconds:cpu:nanoseconds";

    /// Knows build `b1` of `app`: offsets below 0x2000 are `hot`, the rest `cold`.
    struct Namer;
    impl FrameNamer for Namer {
        fn names(&self, object: &ObjectFile, offsets: &[u64]) -> Vec<Option<String>> {
            offsets
                .iter()
                .map(|&o| {
                    (object.build_id == "b1")
                        .then(|| if o < 0x2000 { "hot" } else { "cold" }.into())
                })
                .collect()
        }
    }

    fn object(build_id: &str) -> ObjectFile {
        ObjectFile {
            path: "/srv/app".into(),
            build_id: build_id.into(),
            offset: 0x1000,
            size: 0x4000,
        }
    }

    fn write(service: &str, build_id: &str) -> ProfileWrite {
        let stack = |frames: &[&str], value| StackSample {
            frames: frames.iter().map(|f| f.to_string()).collect(),
            value,
            span_id: Some(value as u64),
            trace_id: None,
        };
        ProfileWrite {
            labels: Labels::from_pairs([(PROFILE_TYPE_LABEL, CPU), ("service_name", service)]),
            time_ns: 1_000,
            duration_ns: 10,
            samples: vec![
                stack(&["main", "app+0x1100"], 3),
                stack(&["main", "app+0x1200"], 4),
                stack(&["main", "app+0x3000"], 5),
                stack(&["main", "other+0x10"], 1),
            ],
            ticks: Vec::new(),
            objects: vec![object(build_id)],
        }
    }

    #[tokio::test]
    async fn frames_of_known_builds_are_named_and_merged() {
        let inner = Arc::new(EmbeddedProfileStore::in_memory());
        let ack = inner
            .write(vec![write("known", "b1"), write("unknown", "b2")])
            .unwrap();
        ack.await.unwrap().unwrap();
        let store = Resymbolizing::new(inner, Arc::new(Namer));
        let query = |service: &str| ProfileQuery {
            profile_type: CPU.into(),
            matchers: vec![Matcher::equal("service_name", service)],
            start_ns: 0,
            end_ns: i64::MAX,
            ..ProfileQuery::default()
        };
        let known = store.merge(&query("known")).unwrap();
        let mut stacks = known.stacks();
        stacks.sort();
        assert_eq!(
            stacks,
            vec![
                (vec!["main", "cold"], 5),
                (vec!["main", "hot"], 7),
                (vec!["main", "other+0x10"], 1)
            ]
        );
        let unknown = store.merge(&query("unknown")).unwrap();
        let mut stacks = unknown.stacks();
        stacks.sort();
        assert_eq!(stacks[0], (vec!["main", "app+0x1100"], 3));
        assert_eq!(store.objects(&query("known")).unwrap(), [object("b1")]);
        // A frame's spans are found by its new name too.
        let hits = store.span_hits(&query("known"), Some("hot"), 10).unwrap();
        assert_eq!(hits.iter().map(|h| h.value).sum::<i64>(), 7);
        assert!(store
            .span_hits(&query("unknown"), Some("hot"), 10)
            .unwrap()
            .is_empty());
    }
}

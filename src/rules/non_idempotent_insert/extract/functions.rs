//! Entering a function: its facts (name, receiver, parameters, module path, marker
//! comment), the state that is per function (SQL locals, builders, the lowerer's
//! scope), and the facts kept when it is left.

use super::{ExtractInput, Extractor, FnBuilder, FnInsertFacts, InsertParams};

/// The file's marker comments, as (start, end, line of the end): the marker's exact
/// text, optionally followed by a reason; never a doc comment.
pub(super) fn marker_comments(input: &ExtractInput, params: &InsertParams) -> Vec<(usize, usize, usize)> {
    let marker = params.marker.trim();
    input
        .comments
        .iter()
        .filter(|c| {
            let body = c.body.trim();
            body.strip_prefix(marker).is_some_and(|rest| rest.is_empty() || rest.starts_with(char::is_whitespace))
        })
        .map(|c| (c.start, c.end, input.source.line_col(c.end.saturating_sub(1)).line))
        .collect()
}

impl Extractor<'_> {
    /// Collects the function with signature `sig` while `body` visits it.
    pub(super) fn enter_fn(
        &mut self,
        sig: &syn::Signature,
        attrs: &[syn::Attribute],
        block: &syn::Block,
        body: impl FnOnce(&mut Self),
    ) {
        let has_self = sig.inputs.iter().any(|a| matches!(a, syn::FnArg::Receiver(_)));
        let params = sig.inputs.iter().filter(|a| matches!(a, syn::FnArg::Typed(_))).count();
        let first = attrs.first().map_or(sig.fn_token.span, |a| a.pound_token.span);
        let marker = self.has_marker(first, sig.fn_token.span, block.brace_token.span.close());
        let facts = FnInsertFacts {
            name: sig.ident.to_string(),
            name_loc: self.lowerer.span_loc(sig.ident.span()),
            self_type: self.self_types.last().cloned().flatten(),
            params,
            is_async: sig.asyncness.is_some(),
            has_self,
            marker,
            loops: Vec::new(),
            events: Vec::new(),
            preflights: Vec::new(),
            repeats_params: Vec::new(),
            item_calls: Vec::new(),
            fixture_calls: Vec::new(),
            tried_calls: Vec::new(),
            table_params: Vec::new(),
            literal_args: Vec::new(),
            deletes: Vec::new(),
            flag_branches: Vec::new(),
            branches: Vec::new(),
            param_gates: Vec::new(),
        };
        let param_names: Vec<String> = sig
            .inputs
            .iter()
            .filter_map(|a| match a {
                syn::FnArg::Typed(t) => Some(crate::facts::lower::pat_ident(&t.pat).map(|i| i.to_string()).unwrap_or_default()),
                syn::FnArg::Receiver(_) => None,
            })
            .collect();
        // (A collection the caller passes in outlives the call; a local one dedupes
        // one batch, not what a run before inserted.)
        let memos = super::hoisted::collections_added_to(block).into_iter().filter(|c| param_names.contains(c)).collect();
        self.stack.push(FnBuilder { facts, open_loops: Vec::new(), floors: Vec::new(), param_names, memos, counted_loops: Vec::new() });
        let saved_locals = std::mem::take(&mut self.sql_locals);
        let saved_existing = std::mem::take(&mut self.existing);
        let saved_fetched = std::mem::take(&mut self.fetched);
        let saved_counts = std::mem::take(&mut self.absent_when_true);
        let saved_absent = std::mem::take(&mut self.absent_selects);
        let saved_filtered = std::mem::take(&mut self.filtered_locals);
        let saved_fresh = std::mem::take(&mut self.fresh_values);
        let saved_ids = std::mem::take(&mut self.fresh_ids);
        let saved_consuming = std::mem::take(&mut self.consuming_loops);
        let saved_deleting = std::mem::take(&mut self.deleting_loops);
        let saved_lets = std::mem::take(&mut self.let_events);
        let saved_closures = std::mem::take(&mut self.local_closures);
        let saved_orm = std::mem::take(&mut self.orm_seen);
        let saved_items = std::mem::take(&mut self.loop_items);
        let saved_distinct = std::mem::take(&mut self.distinct_item_loops);
        let saved_fixtures = std::mem::take(&mut self.fixtures);
        let saved_builders = std::mem::take(&mut self.builders);
        let saved_scope = std::mem::take(&mut self.lowerer.scope);
        let saved_bindings = std::mem::take(&mut self.locals);
        self.bind_params(sig);
        // A parameter named for what exists (`existing: Option<Row>`, `exists: bool`):
        // the caller looked it up, so testing it is the lookup's test.
        if let Some(f) = self.stack.last() {
            self.existing.extend(f.param_names.iter().filter(|n| n.contains("exist")).cloned());
        }
        body(self);
        self.locals = saved_bindings;
        self.sql_locals = saved_locals;
        self.existing = saved_existing;
        self.fetched = saved_fetched;
        self.absent_when_true = saved_counts;
        self.absent_selects = saved_absent;
        self.filtered_locals = saved_filtered;
        self.fresh_values = saved_fresh;
        self.fresh_ids = saved_ids;
        self.consuming_loops = saved_consuming;
        self.deleting_loops = saved_deleting;
        self.let_events = saved_lets;
        self.local_closures = saved_closures;
        self.orm_seen = saved_orm;
        self.loop_items = saved_items;
        self.distinct_item_loops = saved_distinct;
        self.fixtures = saved_fixtures;
        self.builders = saved_builders;
        self.lowerer.scope = saved_scope;
        let mut done = self.stack.pop().expect("pushed above");
        done.facts.table_params = table_params(&done.facts.events, &done.param_names);
        // Facts outlive the file: no growth slack.
        done.facts.events.shrink_to_fit();
        done.facts.loops.shrink_to_fit();
        if !done.facts.events.is_empty() || done.facts.marker || !done.facts.repeats_params.is_empty() {
            self.out.fns.push(done.facts);
        }
    }

    /// The marker comment inside the function, or ending on the line above it
    /// (above its attributes or above the `fn` itself).
    fn has_marker(&self, first: proc_macro2::Span, fn_token: proc_macro2::Span, close: proc_macro2::Span) -> bool {
        if self.markers.is_empty() {
            return false;
        }
        let src = self.input.source;
        let start = self.lowerer.span_loc(first).start as usize;
        let end = self.lowerer.span_loc(close).end as usize;
        let first_line = src.line_col(start).line;
        let fn_line = src.line_col(self.lowerer.span_loc(fn_token).start as usize).line;
        self.markers.iter().any(|&(c_start, c_end, line)| {
            (c_start >= start && c_end <= end) || line + 1 == first_line || line + 1 == fn_line
        })
    }
}

/// The parameters that name the table of an INSERT assembled in the function
/// (`format!("INSERT INTO {table} …")`, read with the table as a run-time name).
fn table_params(events: &[super::Event], param_names: &[String]) -> Vec<(u32, Box<str>)> {
    let mut out: Vec<(u32, Box<str>)> = Vec::new();
    for e in events {
        let super::EventKind::Assembled { value } = &e.kind else { continue };
        let Some(text) = value.compile_time_text(&mut |_| Some(String::new())) else { continue };
        for (at, _) in text.match_indices(super::sql_locals::RUN_TIME_TABLE) {
            let name: String = text[at + super::sql_locals::RUN_TIME_TABLE.len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if let Some(k) = param_names.iter().position(|p| *p == name)
                && !out.iter().any(|(i, _)| *i == k as u32)
            {
                out.push((k as u32, name.into_boxed_str()));
            }
        }
    }
    out
}

//! Recursion cycles of the crate's call graph: its strongly connected components,
//! found by Tarjan's algorithm on demand. Each query explores only what its function
//! reaches, and whatever one query explored stays known, so every function and call
//! edge is visited once per run however many functions ask (a search of its own for
//! every "does `g` call back into `f`?" would be quadratic in the crate's size).
//! Iterative, so a call chain thousands of functions deep needs no deep stack.

use std::cell::RefCell;

const UNSEEN: u32 = u32::MAX;

/// The components of a graph over nodes `0..n`, computed as they are asked for.
pub struct Cycles {
    state: RefCell<Tarjan>,
}

struct Tarjan {
    index: Vec<u32>,
    low: Vec<u32>,
    on_stack: Vec<bool>,
    stack: Vec<usize>,
    /// Each node's component, once known.
    component: Vec<u32>,
    /// Each component's nodes.
    members: Vec<Vec<usize>>,
    next_index: u32,
}

impl Cycles {
    pub fn new(n: usize) -> Cycles {
        Cycles {
            state: RefCell::new(Tarjan {
                index: vec![UNSEEN; n],
                low: vec![0; n],
                on_stack: vec![false; n],
                stack: Vec::new(),
                component: vec![UNSEEN; n],
                members: Vec::new(),
                next_index: 0,
            }),
        }
    }

    /// The component of `node`; `successors(k)` lists the nodes `k` has edges to.
    pub fn component<'s, I>(&self, node: usize, successors: impl Fn(usize) -> I) -> u32
    where
        I: Iterator<Item = usize> + 's,
    {
        let mut t = self.state.borrow_mut();
        if t.component[node] == UNSEEN {
            t.explore(node, &successors);
        }
        t.component[node]
    }

    /// The nodes of a component [`Cycles::component`] returned.
    pub fn members(&self, component: u32) -> Vec<usize> {
        self.state.borrow().members[component as usize].clone()
    }
}

impl Tarjan {
    fn open(&mut self, node: usize) {
        self.index[node] = self.next_index;
        self.low[node] = self.next_index;
        self.next_index += 1;
        self.stack.push(node);
        self.on_stack[node] = true;
    }

    fn explore<I: Iterator<Item = usize>>(&mut self, root: usize, successors: &impl Fn(usize) -> I) {
        // (node, its successors not yet looked at)
        let mut work: Vec<(usize, I)> = Vec::new();
        self.open(root);
        work.push((root, successors(root)));
        while let Some((node, next)) = work.last_mut() {
            let node = *node;
            match next.next() {
                Some(w) if self.index[w] == UNSEEN => {
                    self.open(w);
                    work.push((w, successors(w)));
                }
                Some(w) => {
                    if self.on_stack[w] {
                        self.low[node] = self.low[node].min(self.index[w]);
                    }
                }
                None => {
                    work.pop();
                    if let Some((parent, _)) = work.last() {
                        let parent = *parent;
                        self.low[parent] = self.low[parent].min(self.low[node]);
                    }
                    if self.low[node] == self.index[node] {
                        let id = self.members.len() as u32;
                        let mut members = Vec::new();
                        while let Some(member) = self.stack.pop() {
                            self.on_stack[member] = false;
                            self.component[member] = id;
                            members.push(member);
                            if member == node {
                                break;
                            }
                        }
                        self.members.push(members);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn components(edges: &[Vec<usize>], order: &[usize]) -> Vec<u32> {
        let cycles = Cycles::new(edges.len());
        let mut out = vec![0; edges.len()];
        for &n in order {
            out[n] = cycles.component(n, |k| edges[k].iter().copied());
        }
        out
    }

    #[test]
    fn components_are_the_cycles_whatever_node_is_asked_first() {
        // 0 → 1 → 2 → 0 is a cycle, 3 calls into it, 4 calls itself, 5 is alone.
        let edges = vec![vec![1], vec![2], vec![0], vec![0, 4], vec![4], vec![]];
        for order in [[0, 1, 2, 3, 4, 5], [5, 4, 3, 2, 1, 0], [3, 5, 1, 4, 0, 2]] {
            let c = components(&edges, &order);
            assert!(c[0] == c[1] && c[1] == c[2], "{order:?}: {c:?}");
            assert!(c[3] != c[0] && c[4] != c[3] && c[5] != c[4] && c[5] != c[0], "{order:?}: {c:?}");
        }
        let cycles = Cycles::new(edges.len());
        let c0 = cycles.component(0, |k| edges[k].iter().copied());
        let mut members = cycles.members(c0);
        members.sort();
        assert_eq!(members, [0, 1, 2]);
    }

    #[test]
    fn a_chain_a_hundred_thousand_deep_needs_no_deep_stack() {
        let n = 100_000;
        let edges: Vec<Vec<usize>> = (0..n).map(|i| if i + 1 < n { vec![i + 1] } else { vec![0] }).collect();
        let cycles = Cycles::new(n);
        let c = cycles.component(0, |k| edges[k].iter().copied());
        assert_eq!(cycles.members(c).len(), n);
        assert_eq!(cycles.component(n / 2, |k| edges[k].iter().copied()), c);
    }
}

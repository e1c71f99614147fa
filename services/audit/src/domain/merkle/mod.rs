//! A Merkle tree as in RFC 6962 section 2.1 (Certificate Transparency): the tree hash of `n`
//! leaves, audit (inclusion) paths and consistency proofs, and their verification.
//!
//! ```text
//! leaf_hash(d)  = SHA-256(0x00 ‖ d)          -- d: the entry_hash of an audit entry (32 bytes)
//! node_hash(l,r)= SHA-256(0x01 ‖ l ‖ r)
//! MTH({})       = SHA-256()
//! MTH(D[n])     = MTH(D[0:k]) ‖ MTH(D[k:n]) joined by node_hash, k the largest power of 2 < n
//! ```
//!
//! Functions here take leaf *hashes*; [`leaf_hash`] turns leaf data into one. Verification
//! follows RFC 9162 sections 2.1.3.2 and 2.1.4.2.

use sha2::{Digest, Sha256};

use super::chain::Hash;

pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x00]);
    hasher.update(data);
    hasher.finalize().into()
}

pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x01]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The hash of the empty tree.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The largest power of two strictly below `n` (`n >= 2`).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// MTH over `leaves` (leaf hashes).
pub fn root(leaves: &[Hash]) -> Hash {
    let mut frontier = Frontier::default();
    for leaf in leaves {
        frontier.push(*leaf);
    }
    frontier.root()
}

/// The right edge of a growing tree: one hash per perfect subtree, largest first (at most 64),
/// so a root can be extended leaf by leaf without keeping the leaves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// Roots of the perfect subtrees, left to right; sizes are the set bits of `size`.
    nodes: Vec<Hash>,
}

impl Frontier {
    /// Rebuilds a frontier from its size and its subtree roots (as [`Self::nodes`] gave them).
    pub fn from_parts(size: u64, nodes: Vec<Hash>) -> Option<Self> {
        (size.count_ones() as usize == nodes.len()).then_some(Self { size, nodes })
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn nodes(&self) -> &[Hash] {
        &self.nodes
    }

    pub fn push(&mut self, leaf: Hash) {
        let mut hash = leaf;
        // Each trailing one bit of the old size is a subtree of equal size to merge with.
        let mut size = self.size;
        while size & 1 == 1 {
            let left = self.nodes.pop().unwrap_or_default();
            hash = node_hash(&left, &hash);
            size >>= 1;
        }
        self.nodes.push(hash);
        self.size += 1;
    }

    /// MTH of the leaves pushed so far: subtree roots folded from the right.
    pub fn root(&self) -> Hash {
        let mut nodes = self.nodes.iter().rev();
        let Some(last) = nodes.next() else { return empty_root() };
        nodes.fold(*last, |right, left| node_hash(left, &right))
    }
}

/// PATH(m, D[n]) of RFC 6962: the audit path of leaf `index` (`index < leaves.len()`).
pub fn inclusion_proof(leaves: &[Hash], index: usize) -> Vec<Hash> {
    let mut proof = Vec::new();
    path(leaves, index, &mut proof);
    proof
}

fn path(leaves: &[Hash], index: usize, proof: &mut Vec<Hash>) {
    let n = leaves.len();
    if n <= 1 {
        return;
    }
    let k = split(n);
    if index < k {
        path(&leaves[..k], index, proof);
        proof.push(root(&leaves[k..]));
    } else {
        path(&leaves[k..], index - k, proof);
        proof.push(root(&leaves[..k]));
    }
}

/// PROOF(m, D[n]) of RFC 6962: proves the tree of the first `m` leaves is a prefix of `leaves`.
pub fn consistency_proof(leaves: &[Hash], m: usize) -> Vec<Hash> {
    let mut proof = Vec::new();
    if m > 0 && m < leaves.len() {
        subproof(m, leaves, true, &mut proof);
    }
    proof
}

fn subproof(m: usize, leaves: &[Hash], complete: bool, proof: &mut Vec<Hash>) {
    let n = leaves.len();
    if m == n {
        if !complete {
            proof.push(root(leaves));
        }
        return;
    }
    let k = split(n);
    if m <= k {
        subproof(m, &leaves[..k], complete, proof);
        proof.push(root(&leaves[k..]));
    } else {
        subproof(m - k, &leaves[k..], false, proof);
        proof.push(root(&leaves[..k]));
    }
}

/// RFC 9162 2.1.3.2: whether `proof` shows leaf `index` with `leaf` in the tree of `size` with `root`.
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash], expected_root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    sn == 0 && &r == expected_root
}

/// RFC 9162 2.1.4.2: whether `proof` shows the tree (`size1`, `root1`) is a prefix of
/// (`size2`, `root2`).
pub fn verify_consistency(size1: u64, size2: u64, proof: &[Hash], root1: &Hash, root2: &Hash) -> bool {
    if size1 > size2 {
        return false;
    }
    if size1 == size2 {
        return proof.is_empty() && root1 == root2;
    }
    if size1 == 0 {
        return proof.is_empty();
    }
    let mut proof: Vec<Hash> = proof.to_vec();
    if size1.is_power_of_two() {
        proof.insert(0, *root1);
    }
    let Some((first, rest)) = proof.split_first() else { return false };
    let (mut fn_, mut sn) = (size1 - 1, size2 - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    &fr == root1 && &sr == root2 && sn == 0
}

#[cfg(test)]
mod tests;

//! The reference vectors of the Certificate Transparency implementation
//! (`merkle_tree_test.cc`: eight leaves of raw data, their roots, audit paths and consistency
//! proofs), and round trips of every proof over small trees.

use super::*;

/// The CT test leaves (raw leaf data, hashed with the 0x00 prefix).
fn reference_leaves() -> Vec<Hash> {
    ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
        .iter()
        .map(|data| leaf_hash(&hex::decode(data).unwrap()))
        .collect()
}

const REFERENCE_ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

#[test]
fn the_empty_tree_hashes_nothing() {
    assert_eq!(hex::encode(empty_root()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_eq!(root(&[]), empty_root());
}

#[test]
fn roots_reproduce_the_reference_roots() {
    let leaves = reference_leaves();
    for (size, expected) in (1..=8).zip(REFERENCE_ROOTS) {
        assert_eq!(hex::encode(root(&leaves[..size])), expected, "size {size}");
    }
}

#[test]
fn a_frontier_rebuilt_from_its_parts_continues_the_same_tree() {
    let leaves = reference_leaves();
    let mut frontier = Frontier::default();
    for leaf in &leaves[..5] {
        frontier.push(*leaf);
    }
    let mut rebuilt = Frontier::from_parts(frontier.size(), frontier.nodes().to_vec()).unwrap();
    for leaf in &leaves[5..] {
        rebuilt.push(*leaf);
    }
    assert_eq!(hex::encode(rebuilt.root()), REFERENCE_ROOTS[7]);
    assert!(Frontier::from_parts(5, vec![[0; 32]]).is_none(), "5 leaves need two subtree roots");
}

#[test]
fn audit_paths_reproduce_the_reference_paths() {
    let leaves = reference_leaves();
    let cases: [(usize, usize, &[&str]); 4] = [
        (0, 1, &[]),
        (
            0,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            5,
            8,
            &[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (2, 3, &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    ];
    for (index, size, expected) in cases {
        let proof = inclusion_proof(&leaves[..size], index);
        let proof_hex: Vec<String> = proof.iter().map(hex::encode).collect();
        assert_eq!(proof_hex, expected, "leaf {index} of {size}");
    }
}

#[test]
fn consistency_proofs_reproduce_the_reference_proofs() {
    let leaves = reference_leaves();
    let cases: [(usize, usize, &[&str]); 3] = [
        (1, 1, &[]),
        (
            1,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
    ];
    for (m, n, expected) in cases {
        let proof = consistency_proof(&leaves[..n], m);
        let proof_hex: Vec<String> = proof.iter().map(hex::encode).collect();
        assert_eq!(proof_hex, expected, "{m} → {n}");
    }
}

fn synthetic(n: usize) -> Vec<Hash> {
    (0..n).map(|i| leaf_hash(&(i as u64).to_be_bytes())).collect()
}

#[test]
fn every_audit_path_verifies_and_a_wrong_one_does_not() {
    let leaves = synthetic(33);
    for n in 1..=leaves.len() {
        let tree = &leaves[..n];
        let tree_root = root(tree);
        for index in 0..n {
            let proof = inclusion_proof(tree, index);
            assert!(verify_inclusion(&tree[index], index as u64, n as u64, &proof, &tree_root), "{index} of {n}");
            let other = (index + 1) % n;
            if other != index {
                assert!(!verify_inclusion(&tree[other], index as u64, n as u64, &proof, &tree_root));
            }
            assert!(!verify_inclusion(&tree[index], n as u64, n as u64, &proof, &tree_root), "index past the end");
        }
    }
}

#[test]
fn every_consistency_proof_verifies_and_a_forked_tree_does_not() {
    let leaves = synthetic(33);
    for n in 1..=leaves.len() {
        let root_n = root(&leaves[..n]);
        for m in 1..=n {
            let proof = consistency_proof(&leaves[..n], m);
            let root_m = root(&leaves[..m]);
            assert!(verify_consistency(m as u64, n as u64, &proof, &root_m, &root_n), "{m} → {n}");
            if m < n {
                // The older tree had a different first leaf: no proof from the real tree fits it.
                let mut forked = leaves[..m].to_vec();
                forked[0] = leaf_hash(b"forged");
                assert!(!verify_consistency(m as u64, n as u64, &proof, &root(&forked), &root_n), "{m} → {n}");
            }
        }
    }
}

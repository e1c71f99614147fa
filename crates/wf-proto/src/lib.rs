//! Generated protobuf messages and gRPC stubs for every Wayfinder API.
//! Nothing but generated code and the descriptor set lives here.

#![allow(clippy::all, clippy::pedantic, missing_docs)]

/// Encoded `FileDescriptorSet` of every Wayfinder proto, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/wayfinder_descriptor.bin"));

pub mod events {
    pub mod v1 {
        tonic::include_proto!("wayfinder.events.v1");
    }
}

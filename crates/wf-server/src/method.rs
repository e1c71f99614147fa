//! The layer that tells the auth interceptor which gRPC method a request calls: tonic's interceptors
//! see metadata and extensions but not the URI, so the server copies the path into
//! [`wf_auth::RpcMethod`] before routing.

use std::task::{Context, Poll};

use wf_auth::RpcMethod;

/// Puts each request's path (`/package.Service/Method`) into its extensions.
#[derive(Debug, Clone, Copy, Default)]
pub struct MethodLayer;

impl<S> tower::Layer<S> for MethodLayer {
    type Service = MethodService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MethodService { inner }
    }
}

/// [`MethodLayer`]'s service.
#[derive(Debug, Clone)]
pub struct MethodService<S> {
    inner: S,
}

impl<S, B> tower::Service<http::Request<B>> for MethodService<S>
where
    S: tower::Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let method = RpcMethod(request.uri().path().into());
        request.extensions_mut().insert(method);
        self.inner.call(request)
    }
}

//! The [`interface!`](crate::interface) macro: one declaration of a server's
//! gates generates the message enums, the client stub and the checked server
//! dispatch, so the two sides cannot drift apart.

/// Declares a PPC interface in the invoking module (see [`crate::ipc`] for
/// a worked example and the list of generated items).
///
/// ```text
/// interface! {
///     /// docs
///     interface Name {
///         id: <u64>,
///         error: <error type: Serialize + DeserializeOwned>,
///         gates {
///             /// docs
///             <gate number> => <Variant> fn <method>(<arg>: <type>, …) -> <return type>;
///             …
///         }
///     }
/// }
/// ```
///
/// Argument, return and error types are serde types with bounded size
/// (heapless collections, no pointers) that are also `Clone + Debug +
/// PartialEq`. Gate numbers are non-zero and distinct (checked at compile
/// time). The client's own methods (`new`, `transport`, `transport_mut`,
/// `into_transport`) are not available as gate names.
#[macro_export]
macro_rules! interface {
    (
        $(#[$imeta:meta])*
        interface $Name:ident {
            id: $id:expr,
            error: $Err:ty,
            gates {
                $(
                    $(#[$gmeta:meta])*
                    $gate:literal => $Variant:ident fn $method:ident (
                        $($arg:ident : $ty:ty),* $(,)?
                    ) -> $ret:ty;
                )+
            }
        }
    ) => {
        /// The interface ID every envelope of this interface carries.
        pub const ID: u64 = $id;

        $(#[$imeta])*
        pub struct $Name;

        impl $crate::ipc::Interface for $Name {
            const ID: u64 = ID;
            const NAME: &'static str = stringify!($Name);
            const GATES: &'static [u16] = &[$($gate),+];
        }

        const _: () = $crate::ipc::check_gates(&[$($gate),+]);

        /// A decoded request: one variant per gate, holding its arguments.
        #[derive(Clone, Debug, PartialEq)]
        #[allow(missing_docs, clippy::large_enum_variant)]
        pub enum Request {
            $( $(#[$gmeta])* $Variant { $($arg: $ty),* }, )+
        }

        impl Request {
            /// The gate this request is for.
            pub const fn gate(&self) -> u16 {
                match self {
                    $( Request::$Variant { .. } => $gate, )+
                }
            }

            /// Encodes the arguments (the request body) into `out`.
            pub fn encode(&self, out: &mut [u8]) -> Result<usize, $crate::ipc::WireError> {
                match self {
                    $( Request::$Variant { $($arg),* } => {
                        $crate::ipc::wire::encode(&($($arg,)*), out)
                    } )+
                }
            }

            /// The checked decoding step: refuses an unknown gate and any
            /// body that is not exactly the gate's arguments.
            pub fn decode(gate: u16, body: &[u8]) -> Result<Request, $crate::ipc::DispatchError> {
                match gate {
                    $( $gate => {
                        let ($($arg,)*): ($($ty,)*) = $crate::ipc::wire::decode(body)?;
                        Ok(Request::$Variant { $($arg),* })
                    } )+
                    _ => Err($crate::ipc::DispatchError::BadGate(gate)),
                }
            }
        }

        /// A successful reply: one variant per gate, holding its result.
        #[derive(Clone, Debug, PartialEq)]
        #[allow(missing_docs, clippy::large_enum_variant)]
        pub enum Reply {
            $( $(#[$gmeta])* $Variant($ret), )+
        }

        /// What a call returns: the gate's result or the interface's error.
        pub type Outcome = Result<Reply, $Err>;

        impl Reply {
            /// The gate this reply answers.
            pub const fn gate(&self) -> u16 {
                match self {
                    $( Reply::$Variant(_) => $gate, )+
                }
            }
        }

        /// Encodes a reply body (`Result<Ret, Error>`) into `out`.
        pub fn encode_outcome(outcome: &Outcome, out: &mut [u8]) -> Result<usize, $crate::ipc::WireError> {
            match outcome {
                $( Ok(Reply::$Variant(r)) => {
                    $crate::ipc::wire::encode(&Ok::<&$ret, &$Err>(r), out)
                } )+
                Err(e) => $crate::ipc::wire::encode(&Err::<(), &$Err>(e), out),
            }
        }

        /// Decodes the reply body of a call to `gate`.
        pub fn decode_outcome(gate: u16, body: &[u8]) -> Result<Outcome, $crate::ipc::DispatchError> {
            match gate {
                $( $gate => {
                    let r: Result<$ret, $Err> = $crate::ipc::wire::decode(body)?;
                    Ok(r.map(Reply::$Variant))
                } )+
                _ => Err($crate::ipc::DispatchError::BadGate(gate)),
            }
        }

        $(#[$imeta])*
        ///
        /// The server side: one method per gate. Handlers run only on
        /// requests that decoded completely.
        pub trait Server {
            $( $(#[$gmeta])* fn $method(&mut self, $($arg: $ty),*) -> Result<$ret, $Err>; )+
        }

        /// A server borrowed for one interface (so one value can serve
        /// several interfaces: `Service(&mut server)`).
        impl<S: Server + ?Sized> Server for &mut S {
            $( fn $method(&mut self, $($arg: $ty),*) -> Result<$ret, $Err> {
                (**self).$method($($arg),*)
            } )+
        }

        /// Decodes the body for `gate` (refusing anything malformed before
        /// any handler runs), runs the handler and encodes its result into
        /// `out`.
        pub fn dispatch<S: Server + ?Sized>(
            server: &mut S,
            gate: u16,
            body: &[u8],
            out: &mut [u8],
        ) -> Result<usize, $crate::ipc::DispatchError> {
            let request = Request::decode(gate, body)?;
            let outcome: Outcome = match request {
                $( Request::$Variant { $($arg),* } => {
                    server.$method($($arg),*).map(Reply::$Variant)
                } )+
            };
            encode_outcome(&outcome, out).map_err(|_| $crate::ipc::DispatchError::ReplyTooLarge)
        }

        /// A [`Server`] as a [`Dispatch`]($crate::ipc::Dispatch) for the
        /// runtime's server loop (or a [`Loopback`]($crate::ipc::Loopback)).
        pub struct Service<S>(pub S);

        impl<S: Server> $crate::ipc::Dispatch for Service<S> {
            const INTERFACE: u64 = ID;
            fn dispatch(
                &mut self,
                gate: u16,
                body: &[u8],
                out: &mut [u8],
            ) -> Result<usize, $crate::ipc::DispatchError> {
                dispatch(&mut self.0, gate, body, out)
            }
        }

        $(#[$imeta])*
        ///
        /// The client stub: one typed method per gate.
        pub struct Client<T> {
            transport: T,
        }

        impl<T: $crate::ipc::Transport> Client<T> {
            /// A client calling through `transport`.
            pub const fn new(transport: T) -> Client<T> {
                Client { transport }
            }

            /// The transport.
            pub fn transport(&self) -> &T {
                &self.transport
            }

            /// The transport, mutably (to rebind after `ServerRestarted`).
            pub fn transport_mut(&mut self) -> &mut T {
                &mut self.transport
            }

            /// Gives the transport back.
            pub fn into_transport(self) -> T {
                self.transport
            }

            $(
                $(#[$gmeta])*
                pub fn $method(&mut self, $($arg: $ty),*) -> Result<$ret, $crate::ipc::CallError<$Err>> {
                    $crate::ipc::call(&mut self.transport, ID, $gate, &($($arg,)*))
                }
            )+
        }
    };
}

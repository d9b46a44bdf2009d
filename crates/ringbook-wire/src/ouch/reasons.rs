//! Reasons in outbound messages: the Rejected message's 2-byte reason codes and the
//! Order Canceled message's 1-byte reasons (OUCH 5.0 appendices "Order Reject Reasons"
//! and "Order Cancel Reasons").

/// A Rejected message's Reason (2-byte integer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum RejectCode {
    /// 0x0001 Quote unavailable.
    QuoteUnavailable = 0x0001,
    /// 0x0002 Destination closed.
    DestinationClosed = 0x0002,
    /// 0x0003 Invalid Display.
    InvalidDisplay = 0x0003,
    /// 0x0004 Invalid Max Floor.
    InvalidMaxFloor = 0x0004,
    /// 0x0005 Invalid Peg Type.
    InvalidPegType = 0x0005,
    /// 0x0006 Fat finger.
    FatFinger = 0x0006,
    /// 0x0007 Halted.
    Halted = 0x0007,
    /// 0x0008 ISO not allowed.
    IsoNotAllowed = 0x0008,
    /// 0x0009 Invalid side.
    InvalidSide = 0x0009,
    /// 0x000A Processing error.
    ProcessingError = 0x000A,
    /// 0x000B Cancel pending.
    CancelPending = 0x000B,
    /// 0x000C Firm not authorized.
    FirmNotAuthorized = 0x000C,
    /// 0x000D Invalid min quantity.
    InvalidMinQuantity = 0x000D,
    /// 0x000E No closing reference price.
    NoClosingReferencePrice = 0x000E,
    /// 0x000F Other.
    Other = 0x000F,
    /// 0x0010 Cancel not allowed.
    CancelNotAllowed = 0x0010,
    /// 0x0011 Pegging not allowed.
    PeggingNotAllowed = 0x0011,
    /// 0x0012 Crossed market.
    CrossedMarket = 0x0012,
    /// 0x0013 Invalid quantity.
    InvalidQuantity = 0x0013,
    /// 0x0014 Invalid cross order.
    InvalidCrossOrder = 0x0014,
    /// 0x0015 Replace not allowed.
    ReplaceNotAllowed = 0x0015,
    /// 0x0016 Routing not allowed.
    RoutingNotAllowed = 0x0016,
    /// 0x0017 Invalid symbol.
    InvalidSymbol = 0x0017,
    /// 0x0018 Test.
    Test = 0x0018,
    /// 0x0019 Late LOC too aggressive.
    LateLocTooAggressive = 0x0019,
    /// 0x001A Retail not allowed.
    RetailNotAllowed = 0x001A,
    /// 0x001B Invalid midpoint post only price.
    InvalidMidpointPostOnlyPrice = 0x001B,
    /// 0x001C Invalid destination.
    InvalidDestination = 0x001C,
    /// 0x001D Invalid price.
    InvalidPrice = 0x001D,
    /// 0x001E Shares exceed threshold.
    SharesExceedThreshold = 0x001E,
    /// 0x001F Exceeds maximum allowed notional value.
    ExceedsMaximumNotional = 0x001F,
    /// 0x002C Risk: market order not allowed.
    MarketOrderNotAllowed = 0x002C,
}

impl RejectCode {
    /// The code on the wire.
    #[must_use]
    pub const fn code(self) -> u16 {
        self as u16
    }
}

/// An Order Canceled message's Reason (1 byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CancelReason {
    /// `D` regulatory restriction.
    Regulatory,
    /// `E` closed: the market closed.
    Closed,
    /// `H` halted.
    Halted,
    /// `I` immediate or cancel: the rest of an IOC order.
    ImmediateOrCancel,
    /// `S` supervisory.
    Supervisory,
    /// `T` timeout: the time in force expired.
    Timeout,
    /// `U` user requested: in response to a Cancel Order (or Mass Cancel) request.
    UserRequested,
    /// `Z` system cancel: canceled by the system (here: cancel on disconnect).
    SystemCancel,
}

impl CancelReason {
    /// The byte on the wire.
    #[must_use]
    pub const fn byte(self) -> u8 {
        match self {
            CancelReason::Regulatory => b'D',
            CancelReason::Closed => b'E',
            CancelReason::Halted => b'H',
            CancelReason::ImmediateOrCancel => b'I',
            CancelReason::Supervisory => b'S',
            CancelReason::Timeout => b'T',
            CancelReason::UserRequested => b'U',
            CancelReason::SystemCancel => b'Z',
        }
    }
}

/// A borrowed view of an ``OperationBatch``'s storage as unsafe buffers, made once per applied batch.
/// Passing it around costs no reference counting, unlike passing the batch (four arrays).
struct BatchView {
    let entries: UnsafeBufferPointer<OperationBatch.Entry>
    let legs: UnsafeBufferPointer<Leg>
    let fxRates: UnsafeBufferPointer<FXRate>
    let referenceBytes: UnsafeRawBufferPointer

    var count: Int { self.entries.count }

    @inline(__always)
    func legs(_ slice: OperationBatch.Slice) -> UnsafeBufferPointer<Leg> {
        UnsafeBufferPointer(rebasing: self.legs[slice.range])
    }

    @inline(__always)
    func fxRates(_ slice: OperationBatch.Slice) -> UnsafeBufferPointer<FXRate> {
        UnsafeBufferPointer(rebasing: self.fxRates[slice.range])
    }

    @inline(__always)
    func bytes(_ slice: OperationBatch.Slice) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: self.referenceBytes[slice.range])
    }
}

extension OperationBatch {
    /// Runs `body` with a view of the batch's storage, valid only inside `body`.
    func withView<R>(_ body: (BatchView) -> R) -> R {
        self.entries.withUnsafeBufferPointer { entries in
            self.legs.withUnsafeBufferPointer { legs in
                self.fxRates.withUnsafeBufferPointer { fxRates in
                    self.referenceBytes.withUnsafeBytes { referenceBytes in
                        body(BatchView(entries: entries, legs: legs, fxRates: fxRates, referenceBytes: referenceBytes))
                    }
                }
            }
        }
    }
}

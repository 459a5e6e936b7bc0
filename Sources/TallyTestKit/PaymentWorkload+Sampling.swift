import TallyCore

// Everything here is integer arithmetic or IEEE-exact floating point (+, *, /, squareRoot), so a
// seed gives the same workload on every machine: no libm functions, no standard-library sampling
// whose algorithm could change between toolchains.

extension SeededRandom {
    /// A value in `0..<bound` (Lemire's multiply-shift; the bias is below 2^-40 for our bounds).
    @inline(__always)
    mutating func below(_ bound: UInt64) -> UInt64 {
        precondition(bound > 0)
        return self.next().multipliedFullWidth(by: bound).high
    }

    @inline(__always)
    mutating func index(_ count: Int) -> Int {
        Int(self.below(UInt64(count)))
    }

    /// A value in `range`.
    @inline(__always)
    mutating func uniform(_ range: ClosedRange<UInt64>) -> UInt64 {
        let span = range.upperBound - range.lowerBound
        return span == UInt64.max ? self.next() : range.lowerBound + self.below(span + 1)
    }

    /// A value in `lower...upper` (`upper - lower` below 2^128 - 1).
    mutating func uniform128(_ lower: UInt128, _ upper: UInt128) -> UInt128 {
        let span = upper - lower
        if span < UInt128(UInt64.max) {
            return lower + UInt128(self.below(UInt64(span) + 1))
        }
        return lower + self.next128() % (span + 1)
    }

    /// A value in `lower...upper` whose logarithm is roughly uniform: a uniformly chosen binary
    /// order of magnitude, then a uniform value inside it. Amounts and delays spread like this
    /// have many small values and a long tail of large ones.
    mutating func logUniform(_ lower: UInt128, _ upper: UInt128) -> UInt128 {
        precondition(lower >= 1 && lower <= upper)
        let lowestBits = UInt128.bitWidth - lower.leadingZeroBitCount
        let highestBits = UInt128.bitWidth - upper.leadingZeroBitCount
        let bits = lowestBits + self.index(highestBits - lowestBits + 1)
        let octaveLow = UInt128(1) << (bits - 1)
        let octaveHigh = bits == UInt128.bitWidth ? UInt128.max : (UInt128(1) << bits) - 1
        return self.uniform128(max(octaveLow, lower), min(octaveHigh, upper))
    }

    /// Seconds in `range`, log-uniform.
    mutating func seconds(_ range: ClosedRange<UInt32>) -> UInt64 {
        UInt64(self.logUniform(UInt128(max(range.lowerBound, 1)), UInt128(max(range.upperBound, 1))))
    }

    /// `percent`% of `amount` for a percentage drawn from `percent`, rounded down.
    mutating func percent(of amount: UInt128, _ percent: ClosedRange<UInt64>) -> UInt128 {
        let share = UInt128(self.uniform(percent))
        let (product, overflow) = amount.multipliedReportingOverflow(by: share)
        return overflow ? amount / 100 * share : product / 100
    }

    /// An index drawn with the weights whose running sums are `cumulative` (last = total > 0).
    @inline(__always)
    mutating func pick(_ cumulative: [UInt64]) -> Int {
        let draw = self.below(cumulative[cumulative.count - 1])
        var index = 0
        while cumulative[index] <= draw {
            index += 1
        }
        return index
    }

    /// A double in `0..<1` with 53 random bits.
    @inline(__always)
    mutating func unitInterval() -> Double {
        Double(self.next() >> 11) * 0x1.0p-53
    }
}

extension PaymentWorkload {
    /// SplitMix64's finaliser: a bijective scramble for keys and references.
    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `base^exponent` for `base ≥ 1` from squarings and square roots only, so it is bit-for-bit
    /// the same everywhere (unlike `pow`). Accurate to about 1e-9 relative, plenty for weights.
    static func power(_ base: Double, _ exponent: Double) -> Double {
        precondition(base >= 1 && exponent >= 0)
        var result = 1.0
        var whole = Int(exponent)
        var square = base
        while whole > 0 {
            if whole & 1 == 1 {
                result *= square
            }
            square *= square
            whole >>= 1
        }
        var fraction = exponent - Double(Int(exponent))
        var root = base
        for _ in 0..<32 where fraction > 0 {
            root = root.squareRoot()
            fraction *= 2
            if fraction >= 1 {
                result *= root
                fraction -= 1
            }
        }
        return result
    }

    /// Running sums of the Zipf weights `1 / k^skew`, k = 1...merchants.
    static func zipfCumulative(merchants: Int, skew: Double) -> [Double] {
        var cumulative: [Double] = []
        cumulative.reserveCapacity(merchants)
        var sum = 0.0
        for rank in 1...merchants {
            sum += 1 / PaymentWorkload.power(Double(rank), skew)
            cumulative.append(sum)
        }
        return cumulative
    }

    /// Running sums of `weights`, or nil when they are all zero.
    static func cumulative(_ weights: [UInt32]) -> [UInt64]? {
        var sum: UInt64 = 0
        let sums = weights.map { weight -> UInt64 in
            sum += UInt64(weight)
            return sum
        }
        return sum == 0 ? nil : sums
    }

    /// Writes `prefix`, an optional partner number and `_`, an optional infix, and `digits` (at most
    /// 16) lowercase hex digits of `value`, replacing what `bytes` held. Assembled on the stack and
    /// appended at once: references are written for almost every operation.
    static func writeReference(
        _ bytes: inout [UInt8],
        _ prefix: StaticString,
        partner: Int? = nil,
        infix: StaticString? = nil,
        _ value: UInt64,
        digits: Int
    ) {
        precondition(digits >= 1 && digits <= 16)
        bytes.removeAll(keepingCapacity: true)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { buffer in
            var count = 0
            for byte in UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount) {
                buffer[count] = byte
                count += 1
            }
            if let partner {
                var divisor = 1
                while divisor * 10 <= partner {
                    divisor *= 10
                }
                var rest = partner
                while divisor > 0 {
                    buffer[count] = UInt8(ascii: "0") + UInt8(rest / divisor)
                    count += 1
                    rest %= divisor
                    divisor /= 10
                }
                buffer[count] = UInt8(ascii: "_")
                count += 1
            }
            if let infix {
                for byte in UnsafeBufferPointer(start: infix.utf8Start, count: infix.utf8CodeUnitCount) {
                    buffer[count] = byte
                    count += 1
                }
            }
            var shift = (digits - 1) * 4
            while shift >= 0 {
                let nibble = UInt8(truncatingIfNeeded: value >> UInt64(shift)) & 0xF
                buffer[count] = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
                count += 1
                shift -= 4
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<count]))
        }
    }

    /// Greatest common divisor.
    static func gcd(_ a: UInt128, _ b: UInt128) -> UInt128 {
        var (x, y) = (a, b)
        while y != 0 {
            (x, y) = (y, x % y)
        }
        return x
    }
}

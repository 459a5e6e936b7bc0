import Testing

@testable import TallyCore

@Suite("AssetCode")
struct AssetCodeTests {
    /// The parsing initializer (a literal would pick the trapping `ExpressibleByStringLiteral` one).
    func parse(_ text: String) -> AssetCode? {
        AssetCode(text)
    }

    @Test func validCodesPackFirstCharacterLowest() {
        #expect(parse("A")?.rawValue == 0x41)
        #expect(parse("USD")?.rawValue == 0x44_53_55)
        #expect(parse("USD")?.description == "USD")
        for text in [
            "A", "Z", "0", "9", ".", "-", "_", "USDC", "BTC.LN", "EUR-2", "X_Y", "ABCDEFGHIJKLMNOP", "0123456789.-_ABC",
        ] {
            let code = parse(text)
            #expect(code?.description == text, "\(text)")
            #expect(code?.isValid == true, "\(text)")
        }
        #expect(parse("ABCDEFGHIJKLMNOP")?.rawValue == UInt128(0x504F_4E4D_4C4B_4A49_4847_4645_4443_4241))
    }

    @Test func invalidCodesAreRefused() {
        for text in ["", "ABCDEFGHIJKLMNOPQ", "usd", "Usd", "US D", "US$", "€", "A\u{0}B", "A/B", "A+B", "é"] {
            #expect(parse(text) == nil, "\(text.debugDescription)")
        }
    }

    @Test func packedValuesAreValidatedToo() {
        #expect(!AssetCode(rawValue: 0).isValid)
        #expect(!rawAssetCode([UInt8(ascii: "A"), 0, UInt8(ascii: "B")]).isValid)
        #expect(!rawAssetCode(Array("usd".utf8)).isValid)
        #expect(!rawAssetCode([0, UInt8(ascii: "A")]).isValid)
        #expect(rawAssetCode(Array("ABCDEFGHIJKLMNOP".utf8)).isValid)
        #expect(rawAssetCode(Array("EUR".utf8)) == "EUR")
    }

    @Test func orderIsByText() {
        #expect(parse("AB")! < parse("B")!)
        #expect(parse("USD")! < parse("USDC")!)
        #expect(!(parse("USD")! < parse("USD")!))
        #expect(([parse("JPY")!, "EUR", "USD", "CHF"] as [AssetCode]).sorted() == ["CHF", "EUR", "JPY", "USD"])
    }
}

/// The nudity labels the NudeNet analyzer gives, two levels as AWS Rekognition's
/// content moderation names them (top level, then the part), each the highest
/// detection score of its NudeNet classes in a frame:
///
/// | label | NudeNet classes | AWS Rekognition |
/// |---|---|---|
/// | `nudity.explicit` | exposed female or male genitalia, female breast, buttocks, anus | Explicit Nudity |
/// | `nudity.explicit.female_genitalia` | female genitalia exposed | Exposed Female Genitalia |
/// | `nudity.explicit.male_genitalia` | male genitalia exposed | Exposed Male Genitalia |
/// | `nudity.explicit.female_breast` | female breast exposed | Exposed Female Nipple |
/// | `nudity.explicit.buttocks_or_anus` | buttocks exposed, anus exposed | Exposed Buttocks or Anus |
/// | `nudity.partial` | male breast exposed | Non-Explicit Nudity |
/// | `nudity.partial.male_breast` | male breast exposed | Exposed Male Nipple |
/// | `nudity.swimwear_underwear` | covered female genitalia, female breast, buttocks, anus | Swimwear or Underwear |
/// | `nudity.swimwear_underwear.covered_intimate_parts` | the same | Female/Male Swimwear or Underwear |
///
/// Faces, feet, bellies and armpits (exposed or covered) are listed as
/// detections but are no moderation label. Thresholds: 0.5 for every label
/// (NudeNet keeps detections from 0.25; half its boxes over 0.5 are confident).
public enum NudityTaxonomy {
    /// NudeNet 320n's classes, in the order of its outputs (its metadata's `names`).
    public static let classes = [
        "FEMALE_GENITALIA_COVERED", "FACE_FEMALE", "BUTTOCKS_EXPOSED", "FEMALE_BREAST_EXPOSED", "FEMALE_GENITALIA_EXPOSED",
        "MALE_BREAST_EXPOSED", "ANUS_EXPOSED", "FEET_EXPOSED", "BELLY_COVERED", "FEET_COVERED", "ARMPITS_COVERED",
        "ARMPITS_EXPOSED", "FACE_MALE", "BELLY_EXPOSED", "MALE_GENITALIA_EXPOSED", "ANUS_COVERED", "FEMALE_BREAST_COVERED",
        "BUTTOCKS_COVERED",
    ]

    public struct Label: Sendable {
        public let name: String
        /// NudeNet class names whose detections count.
        public let classes: [String]
        public let defaultThreshold: Double
    }

    public static let labels: [Label] = {
        let explicit = ["FEMALE_GENITALIA_EXPOSED", "MALE_GENITALIA_EXPOSED", "FEMALE_BREAST_EXPOSED", "BUTTOCKS_EXPOSED", "ANUS_EXPOSED"]
        let covered = ["FEMALE_GENITALIA_COVERED", "FEMALE_BREAST_COVERED", "BUTTOCKS_COVERED", "ANUS_COVERED"]
        return [
            Label(name: "nudity.explicit", classes: explicit, defaultThreshold: 0.5),
            Label(name: "nudity.explicit.female_genitalia", classes: ["FEMALE_GENITALIA_EXPOSED"], defaultThreshold: 0.5),
            Label(name: "nudity.explicit.male_genitalia", classes: ["MALE_GENITALIA_EXPOSED"], defaultThreshold: 0.5),
            Label(name: "nudity.explicit.female_breast", classes: ["FEMALE_BREAST_EXPOSED"], defaultThreshold: 0.5),
            Label(name: "nudity.explicit.buttocks_or_anus", classes: ["BUTTOCKS_EXPOSED", "ANUS_EXPOSED"], defaultThreshold: 0.5),
            Label(name: "nudity.partial", classes: ["MALE_BREAST_EXPOSED"], defaultThreshold: 0.5),
            Label(name: "nudity.partial.male_breast", classes: ["MALE_BREAST_EXPOSED"], defaultThreshold: 0.5),
            Label(name: "nudity.swimwear_underwear", classes: covered, defaultThreshold: 0.5),
            Label(name: "nudity.swimwear_underwear.covered_intimate_parts", classes: covered, defaultThreshold: 0.5),
        ]
    }()

    /// Report label of a NudeNet class ("FEMALE_BREAST_EXPOSED" -> "female_breast_exposed").
    static func detectionLabel(_ nudeNetClass: String) -> String { nudeNetClass.lowercased() }

    /// A label's score in a frame: its classes' best detection (0 without one).
    public static func score(_ label: Label, in detections: [(label: String, score: Double)]) -> Double {
        let wanted = Set(label.classes.map(detectionLabel))
        return detections.filter { wanted.contains($0.label) }.map(\.score).max() ?? 0
    }
}

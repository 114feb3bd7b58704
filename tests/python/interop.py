#!/usr/bin/env python3
"""Python side of tests/interop_python.rs: Apache Thrift's Python package and thriftpy2 are
the reference implementations.

    interop.py write DIR   writes, with each library and protocol, every case of CASES and every
                           message of MESSAGES into DIR, plus DIR/manifest.json (each case's
                           struct and its value as JSON, for the Rust side's IDL-only values)
    interop.py check DIR   decodes what the Rust side wrote into DIR with each library and
                           checks the values (and message headers)

Apache's Python code is generated at run time with the `thrift` compiler (Debian's
thrift-compiler 0.17) into DIR/../gen-py; thriftpy2 loads the IDL directly. Only the
pure-Python protocol classes are used (Apache's C extension may not be built).

Value comparison is order-free for sets and maps: both sides are brought to a canonical form
(`canon`) driven by the IDL types, in which set elements and map entries are sorted.
"""

import inspect
import io
import json
import os
import re
import shutil
import struct
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IDL = {
    "ThriftTest": os.path.join(ROOT, "testdata/idl/apache-thrift/test/v0.16/ThriftTest.thrift"),
    "baseline": os.path.join(ROOT, "testdata/idl/frugal/tests/baseline.thrift"),
}
LIBS = ("apache", "thriftpy2")
PROTOCOLS = ("binary", "compact")
# Message envelopes: strict Binary (version word), old non-strict Binary, Compact.
MESSAGE_PROTOCOLS = ("binary-strict", "binary-nonstrict", "compact")

# TType codes (the same in both libraries; thriftpy2 spells `binary` as 18).
BOOL, BYTE, DOUBLE, I16, I32, I64, STRING, STRUCT, MAP, SET, LIST, BINARY = (
    2, 3, 4, 6, 8, 10, 11, 12, 13, 14, 15, 18)

I32_MIN, I32_MAX = -(2**31), 2**31 - 1
I64_MIN, I64_MAX = -(2**63), 2**63 - 1
UNI = "Grüße, 世界! 🎉 \"q\" \\ \x00 \t ñ"


def die(msg):
    print("interop.py: " + msg, file=sys.stderr)
    sys.exit(2)


# ---------------------------------------------------------------------------------------------
# Loading both libraries' types

def load_thriftpy2():
    import thriftpy2
    mods = {}
    for name, path in IDL.items():
        with open(path, encoding="utf-8") as f:
            src = f.read()
        # thriftpy2's parser rejects `namespace xsd test (uri = '...')`; namespaces do not
        # affect the wire, so drop them all.
        src = re.sub(r"(?m)^\s*namespace\s.*$", "", src)
        mods[name] = thriftpy2.load_fp(io.StringIO(src), module_name=name + "_thrift")
    return mods


def load_apache(gen_dir):
    thrift = shutil.which("thrift")
    if thrift is None:
        die("the `thrift` compiler is missing: run `bash scripts/setup-python` "
            "(it installs Debian's thrift-compiler)")
    os.makedirs(gen_dir, exist_ok=True)
    for path in IDL.values():
        r = subprocess.run([thrift, "--gen", "py", "-out", gen_dir, path],
                           capture_output=True, text=True)
        if r.returncode != 0:
            die("thrift --gen py %s failed:\n%s%s" % (path, r.stdout, r.stderr))
    sys.path.insert(0, gen_dir)
    import ThriftTest.ttypes
    import ThriftTest.ThriftTest
    import baseline.ttypes
    return {"ThriftTest": ThriftTest.ttypes, "baseline": baseline.ttypes,
            "ThriftTestService": ThriftTest.ThriftTest}


def setup(work):
    tp = load_thriftpy2()
    ap = load_apache(os.path.join(work, "gen-py"))
    # Apache's generated classes are not hashable (Insanity is `python.immutable`, but holds a
    # dict and a list), yet they are set elements and map keys in these IDLs. Hash them by
    # their canonical value; this only lets Python build and decode the values.
    for idl, name in (("ThriftTest", "Insanity"), ("baseline", "Simple")):
        spec_cls = getattr(tp[idl], name)
        getattr(ap[idl], name).__hash__ = (
            lambda self, c=spec_cls: hash(repr(canon(self, STRUCT, c))))
    return tp, ap


# ---------------------------------------------------------------------------------------------
# Canonical form and JSON, driven by thriftpy2's type specs (field names are the same in both
# libraries, so the same spec reads Apache objects)

def field_specs(cls):
    """(id, ttype, name, sub-spec) of a thriftpy2 struct class, by id."""
    out = []
    for fid, spec in sorted(cls.thrift_spec.items()):
        ttype, name = spec[0], spec[1]
        sub = spec[2] if len(spec) == 4 else None
        out.append((fid, ttype, name, sub))
    return out


def split(spec):
    if isinstance(spec, tuple):
        return spec[0], spec[1]
    return spec, None


def canon(v, ttype, sub):
    if v is None:
        return None
    if ttype == STRUCT:
        return (sub.__name__,) + tuple(
            (name, canon(getattr(v, name, None), t, s)) for _, t, name, s in field_specs(sub))
    if ttype == LIST:
        t, s = split(sub)
        return ("list",) + tuple(canon(e, t, s) for e in v)
    if ttype == SET:
        t, s = split(sub)
        return ("set",) + tuple(sorted((canon(e, t, s) for e in v), key=repr))
    if ttype == MAP:
        (kt, ks), (vt, vs) = split(sub[0]), split(sub[1])
        return ("map",) + tuple(sorted(((canon(k, kt, ks), canon(x, vt, vs))
                                        for k, x in v.items()), key=repr))
    if ttype == BINARY:
        return bytes(v.encode("utf-8") if isinstance(v, str) else v)
    if ttype == STRING:
        assert isinstance(v, str), "string field holds %r" % (v,)
        return v
    if ttype == DOUBLE:
        # repr tells -0.0 from 0.0
        return ("double", repr(float(v)))
    if ttype == BOOL:
        return ("bool", bool(v))
    return int(v)


def to_json(v, ttype, sub):
    if ttype == STRUCT:
        return {name: to_json(getattr(v, name), t, s)
                for _, t, name, s in field_specs(sub) if getattr(v, name, None) is not None}
    if ttype in (LIST, SET):
        t, s = split(sub)
        return [to_json(e, t, s) for e in v]
    if ttype == MAP:
        (kt, ks), (vt, vs) = split(sub[0]), split(sub[1])
        return [[to_json(k, kt, ks), to_json(x, vt, vs)] for k, x in v.items()]
    if ttype == BINARY:
        return (v.encode("utf-8") if isinstance(v, str) else bytes(v)).hex()
    if ttype == DOUBLE:
        # the IEEE bits, big-endian hex: exact whatever the JSON reader does with floats
        return struct.pack(">d", float(v)).hex()
    if ttype == BOOL:
        return bool(v)
    if ttype == STRING:
        return v
    return int(v)


# ---------------------------------------------------------------------------------------------
# The values (built the same way with either library's classes)

def sample_string():
    return "你好,\b\n\r\t世界" * 16


def sample_binary():
    return bytes(i % 16 for i in range(256))


def thrifttest_cases(T):
    X = T.Xtruct
    x_min = X(string_thing="", byte_thing=-128, i32_thing=I32_MIN, i64_thing=I64_MIN)
    x_max = X(string_thing=UNI, byte_thing=127, i32_thing=I32_MAX, i64_thing=I64_MAX)
    x_small = X(string_thing="zero", byte_thing=0, i32_thing=-1, i64_thing=1)
    ins1 = T.Insanity(userMap={5: 5, 8: -8, 1: I64_MIN}, xtructs=[x_max, x_small])
    ins2 = T.Insanity(userMap={}, xtructs=[])
    ins3 = T.Insanity(userMap={2: I64_MAX}, xtructs=[x_min])
    x3 = T.Xtruct3(string_thing="three", changed=-7, i32_thing=I32_MAX, i64_thing=-1)
    v2_full = T.VersioningTestV2(
        begin_in_both=1, newint=-2, newbyte=-3, newshort=-32768, newlong=I64_MIN,
        newdouble=-1.5e-300, newstruct=T.Bonk(message="bonk", type=7),
        newlist=[3, -1, I32_MAX, 0], newset={-5, 0, 5, I32_MAX},
        newmap={-1: 1, 0: 0, I32_MAX: I32_MIN}, newstring="neu ✓", end_in_both=12)
    v2_zero = T.VersioningTestV2(
        begin_in_both=0, newint=0, newbyte=0, newshort=32767, newlong=0, newdouble=-0.0,
        newstruct=T.Bonk(message="", type=0), newlist=[], newset=set(), newmap={},
        newstring="", end_in_both=0)
    B = T.Bools
    return [
        ("Bonk", T.Bonk(message=UNI, type=I32_MIN)),
        ("Bonk.empty", T.Bonk(message="", type=0)),
        ("Bools", B(im_true=True, im_false=False)),
        ("Xtruct.min", x_min),
        ("Xtruct.max", x_max),
        ("Xtruct2", T.Xtruct2(byte_thing=-1, struct_thing=x_max, i32_thing=-42)),
        ("Xtruct3", x3),
        ("Insanity", ins1),
        ("Insanity.empty", ins2),
        ("CrazyNesting.full", T.CrazyNesting(
            string_field=UNI,
            set_field={ins1, ins2, ins3},
            list_field=[
                {
                    frozenset({1, 2, 3}): {
                        # set<list<map<Insanity, string>>>, given as a list of its elements
                        # (lists are not hashable); each map has at most one entry, because
                        # Apache's TFrozenDict sorts its items to hash them.
                        1: [[{ins1: "one"}], [], [{ins2: ""}, {ins3: "三"}]],
                        -1: [],
                    },
                    frozenset(): {},
                    frozenset({I32_MIN}): {I32_MAX: [[]]},
                },
                {},
            ],
            binary_field=bytes(range(256)))),
        ("CrazyNesting.flat", T.CrazyNesting(
            string_field="flat", set_field=set(), list_field=[{}, {}], binary_field=b"\x00")),
        ("CrazyNesting.min", T.CrazyNesting(
            string_field="", set_field=None, list_field=[], binary_field=b"")),
        ("SomeUnion.map", T.SomeUnion(map_thing={1: 10, 6: -6, 8: I64_MAX})),
        ("SomeUnion.string", T.SomeUnion(string_thing=UNI)),
        ("SomeUnion.i32", T.SomeUnion(i32_thing=-5)),
        ("SomeUnion.xtruct", T.SomeUnion(xtruct_thing=x3)),
        ("SomeUnion.insanity", T.SomeUnion(insanity_thing=ins1)),
        ("Xception", T.Xception(errorCode=1001, message="This is an Xception")),
        ("Xception2", T.Xception2(errorCode=2002, struct_thing=x_small)),
        ("EmptyStruct", T.EmptyStruct()),
        ("OneField", T.OneField(field=T.EmptyStruct())),
        ("VersioningTestV1", T.VersioningTestV1(
            begin_in_both=-1, old_string="old ☃", end_in_both=I32_MAX)),
        ("VersioningTestV2", v2_full),
        ("VersioningTestV2.zero", v2_zero),
        ("ListTypeVersioningV1", T.ListTypeVersioningV1(
            myints=[1, -1, 0, I32_MAX, I32_MIN], hello="hello")),
        ("ListTypeVersioningV2", T.ListTypeVersioningV2(strings=["", "a", UNI], hello="")),
        ("GuessProtocolStruct", T.GuessProtocolStruct(
            map_field={"": "empty", "key": "", "ключ": "значение"})),
        ("LargeDeltas", T.LargeDeltas(
            b1=B(im_true=True, im_false=False), b10=B(im_true=False, im_false=False),
            b100=B(im_true=True, im_false=True), check_true=True,
            b1000=B(im_true=False, im_false=True), check_false=False, vertwo2000=v2_full,
            a_set2500={"a", "b", "ü"}, vertwo3000=v2_zero,
            big_numbers=[I32_MAX, I32_MIN, 0, 1])),
        ("NestedListsI32x2", T.NestedListsI32x2(integerlist=[[1, 2], [], [-3]])),
        ("NestedListsI32x3", T.NestedListsI32x3(integerlist=[[[1], [2, 3]], [], [[]]])),
        ("NestedMixedx2", T.NestedMixedx2(
            int_set_list=[{1, 2, 3}, set(), {-1}],
            map_int_strset={1: {"a", "b"}, 2: set(), -3: {"ü"}},
            map_int_strset_list=[{}, {0: {"x"}}])),
        ("ListBonks", T.ListBonks(bonk=[T.Bonk(message="a", type=1),
                                        T.Bonk(message="", type=-1)])),
        ("ListBonks.empty", T.ListBonks(bonk=[])),
        ("NestedListsBonk", T.NestedListsBonk(bonk=[[[T.Bonk(message="x", type=1)], []], []])),
        ("BoolTest.set", T.BoolTest(b=False, s="false")),
        ("BoolTest.unset", T.BoolTest(b=None, s=None)),
        ("BoolTest.defaults", T.BoolTest()),
        ("StructA", T.StructA(s=UNI)),
        ("StructB.both", T.StructB(aa=T.StructA(s="aa"), ab=T.StructA(s="ab"))),
        ("StructB.required_only", T.StructB(aa=None, ab=T.StructA(s=""))),
        ("OptionalSetDefaultTest.defaults", T.OptionalSetDefaultTest()),
        ("OptionalSetDefaultTest.empty", T.OptionalSetDefaultTest(with_default=set())),
        ("OptionalSetDefaultTest.unset", T.OptionalSetDefaultTest(with_default=None)),
        ("OptionalBinary.set", T.OptionalBinary(
            bin_set={b"", b"\x00\xff", b"abc"}, bin_map={b"\x01": 1, b"": -1})),
        ("OptionalBinary.defaults", T.OptionalBinary()),
        ("OptionalBinary.unset", T.OptionalBinary(bin_set=None, bin_map=None)),
    ]


def baseline_cases(M):
    def simple(**over):
        kw = dict(ByteField=127, I64Field=I64_MAX, DoubleField=sys.float_info.max,
                  I32Field=I32_MAX, StringField=sample_string(), BinaryField=sample_binary(),
                  enumField=0)
        kw.update(over)
        return M.Simple(**kw)

    def nesting():
        s = sample_string()
        return M.Nesting(
            String=s, ListSimple=[simple() for _ in range(8)], Double=sys.float_info.max,
            I32=I32_MAX, ListI32=[I32_MIN] * 8, I64=I64_MAX,
            MapStringString={str(i): s for i in range(8)}, SimpleStruct=simple(),
            MapI32I64={i: I64_MIN for i in range(8)}, ListString=[s] * 8,
            Binary=sample_binary(), MapI64String={i: s for i in range(8)},
            ListI64=[I64_MIN] * 8, Byte=127,
            MapStringSimple={str(i): simple() for i in range(8)})

    def nesting2():
        return M.Nesting2(
            MapSimpleNesting={simple(I32Field=i): nesting() for i in range(8)},
            SimpleStruct=simple(), Byte=127, Double=sys.float_info.max,
            ListNesting=[nesting() for _ in range(8)], I64=I64_MAX, NestingStruct=nesting(),
            Binary=sample_binary(), String=sample_string(), I32=I32_MAX)

    unset = {name: None for _, _, name, _ in field_specs(TP["baseline"].OptionalDefaultValues)}
    return [
        ("Simple", simple()),
        ("Simple.other", simple(ByteField=-128, I64Field=I64_MIN, DoubleField=-1.25,
                                I32Field=I32_MIN, StringField="", BinaryField=b"",
                                enumField=2)),
        ("Nesting", nesting()),
        ("Nesting2", nesting2()),
        ("DefaultValues.defaults", M.DefaultValues()),
        ("OptionalDefaultValues.defaults", M.OptionalDefaultValues()),
        ("OptionalDefaultValues.unset", M.OptionalDefaultValues(**unset)),
    ]


def all_cases(lib):
    """[(case name, idl, struct name, value)] built with `lib`'s classes."""
    mods = AP if lib == "apache" else TP
    out = []
    for idl, build in (("ThriftTest", thrifttest_cases), ("baseline", baseline_cases)):
        for name, value in build(mods[idl]):
            out.append((name, idl, type(value).__name__, value))
    return out


# Cases a library cannot decode, with the reason (checked to still fail that way).
CANNOT_DECODE = {
    ("thriftpy2", "CrazyNesting.full"):
        "thriftpy2 decodes set<i32> as a list, which cannot be a dict key (TypeError)",
}


# ---------------------------------------------------------------------------------------------
# Protocol plumbing

def apache_proto(proto, data=None):
    from thrift.protocol.TBinaryProtocol import TBinaryProtocol
    from thrift.protocol.TCompactProtocol import TCompactProtocol
    from thrift.transport.TTransport import TMemoryBuffer
    trans = TMemoryBuffer(data)
    if proto in ("binary", "binary-strict"):
        p = TBinaryProtocol(trans, strictRead=True, strictWrite=True)
    elif proto == "binary-nonstrict":
        p = TBinaryProtocol(trans, strictRead=False, strictWrite=False)
    elif proto == "compact":
        p = TCompactProtocol(trans)
    else:
        raise ValueError(proto)
    assert p._fast_encode is None and p._fast_decode is None, "not the pure-Python protocol"
    return trans, p


def tp_proto(proto, data=None):
    from thriftpy2.protocol.binary import TBinaryProtocol
    from thriftpy2.protocol.compact import TCompactProtocol
    from thriftpy2.transport.memory import TMemoryBuffer
    trans = TMemoryBuffer(data)
    if proto in ("binary", "binary-strict"):
        p = TBinaryProtocol(trans, strict_read=True, strict_write=True)
    elif proto == "binary-nonstrict":
        p = TBinaryProtocol(trans, strict_read=False, strict_write=False)
    elif proto == "compact":
        p = TCompactProtocol(trans)
    else:
        raise ValueError(proto)
    return trans, p


def consumed(lib, trans):
    return trans._buffer.tell() if lib == "apache" else trans._pos


def write_struct(lib, p, value):
    if lib == "apache":
        value.write(p)
    else:
        p.write_struct(value)


def read_struct(lib, p, cls):
    if lib == "apache":
        if isinstance(inspect.getattr_static(cls, "read"), classmethod):
            return cls.read(p)  # python.immutable classes
        obj = cls()
        obj.read(p)
        return obj
    obj = cls()
    p.read_struct(obj)
    return obj


def encode(lib, proto, value):
    trans, p = (apache_proto if lib == "apache" else tp_proto)(proto)
    write_struct(lib, p, value)
    return trans.getvalue()


def decode(lib, proto, cls, data):
    trans, p = (apache_proto if lib == "apache" else tp_proto)(proto, data)
    v = read_struct(lib, p, cls)
    n = consumed(lib, trans)
    if n != len(data):
        raise ValueError("decoded %d of %d bytes" % (n, len(data)))
    return v


# ---------------------------------------------------------------------------------------------
# Messages

def app_exception_class(lib):
    if lib == "apache":
        from thrift.Thrift import TApplicationException
    else:
        from thriftpy2.thrift import TApplicationException
    return TApplicationException


def messages(lib):
    """[(case, method name, message type, seqid, body)]; types: 1 call, 2 reply, 3 exception,
    4 oneway."""
    if lib == "apache":
        S, T = AP["ThriftTestService"], AP["ThriftTest"]
    else:
        S, T = TP["ThriftTest"].ThriftTest, TP["ThriftTest"]
    x = T.Xtruct(string_thing=UNI, byte_thing=-1, i32_thing=I32_MIN, i64_thing=I64_MAX)
    E = app_exception_class(lib)
    return [
        ("call", "testStruct", 1, 1, S.testStruct_args(thing=x)),
        ("reply", "testStruct", 2, I32_MAX, S.testStruct_result(success=x)),
        ("multi", "testMulti", 1, 42, S.testMulti_args(
            arg0=-1, arg1=I32_MIN, arg2=I64_MAX, arg3={-1: "minus", 32767: "max", -32768: "ü"},
            arg4=8, arg5=-9)),
        ("oneway", "testOneway", 4, I32_MIN, S.testOneway_args(secondsToSleep=7)),
        ("exception", "tëstÜnknown", 3, -1,
         E(type=1, message="Invalid method name: 'tëstÜnknown' ✗")),
        ("exception.internal", "testException", 3, 0, E(type=6, message="")),
        ("exception.code99", "testVoid", 3, 7, E(type=99, message="custom")),
    ]


def message_unsupported(lib, proto, seqid):
    """Why `lib` cannot write or read this message header, or None."""
    if lib == "thriftpy2" and proto == "compact" and seqid < 0:
        # thriftpy2 0.7.1: TCompactProtocol.write_message_begin loops forever (and eats memory)
        # on a negative seqid, and read_message_begin returns it unsigned.
        return "thriftpy2 Compact cannot write or read a negative seqid"
    return None


def encode_message(lib, proto, name, mtype, seqid, body):
    trans, p = (apache_proto if lib == "apache" else tp_proto)(proto)
    if lib == "apache":
        p.writeMessageBegin(name, mtype, seqid)
        body.write(p)
        p.writeMessageEnd()
    else:
        p.write_message_begin(name, mtype, seqid)
        p.write_struct(body)
        p.write_message_end()
    return trans.getvalue()


def decode_message(lib, proto, cls, data):
    trans, p = (apache_proto if lib == "apache" else tp_proto)(proto, data)
    if lib == "apache":
        header = p.readMessageBegin()
        body = read_struct(lib, p, cls)
        p.readMessageEnd()
    else:
        header = p.read_message_begin()
        body = read_struct(lib, p, cls)
        p.read_message_end()
    n = consumed(lib, trans)
    if n != len(data):
        raise ValueError("decoded %d of %d bytes" % (n, len(data)))
    return tuple(header), body


def body_spec(case):
    """The thriftpy2 class describing a message body (for `canon`)."""
    for c, _, _, _, body in messages("thriftpy2"):
        if c == case:
            return type(body)
    raise KeyError(case)


# ---------------------------------------------------------------------------------------------
# Commands

def cmd_write(out):
    os.makedirs(out, exist_ok=True)
    manifest = {"cases": [], "messages": []}
    for lib in LIBS:
        for name, idl, sname, value in all_cases(lib):
            for proto in PROTOCOLS:
                with open(os.path.join(out, "%s.%s.%s.bin" % (lib, proto, name)), "wb") as f:
                    f.write(encode(lib, proto, value))
            if lib == "thriftpy2":
                spec = getattr(TP[idl], sname)
                manifest["cases"].append({"name": name, "idl": idl, "struct": sname,
                                          "value": to_json(value, STRUCT, spec)})
        for case, mname, mtype, seqid, body in messages(lib):
            for proto in MESSAGE_PROTOCOLS:
                if message_unsupported(lib, proto, seqid):
                    continue
                path = os.path.join(out, "%s.%s.msg.%s.bin" % (lib, proto, case))
                with open(path, "wb") as f:
                    f.write(encode_message(lib, proto, mname, mtype, seqid, body))
            if lib == "thriftpy2":
                manifest["messages"].append(
                    {"name": case, "method": mname, "type": mtype, "seqid": seqid})
    with open(os.path.join(out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=1)
    print("wrote %d cases and %d messages per library and protocol"
          % (len(manifest["cases"]), len(manifest["messages"])))


def cmd_check(src):
    failures, checked, skipped = [], 0, []
    paths = sorted({f.split(".", 1)[0] for f in os.listdir(src) if f.endswith(".bin")})
    if not paths:
        die("nothing to check in " + src)
    for lib in LIBS:
        mods = AP if lib == "apache" else TP
        for name, idl, sname, value in all_cases(lib):
            spec = getattr(TP[idl], sname)
            cls = getattr(mods[idl], sname)
            for proto in PROTOCOLS:
                # What this library decodes from its own encoding of the value is what it must
                # decode from ours (Python applies IDL defaults to absent fields on decode).
                try:
                    want = canon(decode(lib, proto, cls, encode(lib, proto, value)), STRUCT, spec)
                except TypeError as e:
                    reason = CANNOT_DECODE.get((lib, name))
                    if reason is None:
                        raise
                    skipped.append("%s %s %s: %s [%s]" % (lib, proto, name, reason, e))
                    continue
                if (lib, name) in CANNOT_DECODE:
                    failures.append("%s %s %s: decodes now; drop it from CANNOT_DECODE"
                                    % (lib, proto, name))
                for path in paths:
                    where = "%s reading %s %s %s" % (lib, path, proto, name)
                    fname = os.path.join(src, "%s.%s.%s.bin" % (path, proto, name))
                    checked += 1
                    try:
                        with open(fname, "rb") as f:
                            got = canon(decode(lib, proto, cls, f.read()), STRUCT, spec)
                    except Exception as e:  # noqa: BLE001 - report and go on
                        failures.append("%s: %s: %s" % (where, type(e).__name__, e))
                        continue
                    if got != want:
                        failures.append("%s: value differs\n  want %s\n  got  %s"
                                        % (where, short(want), short(got)))
        for case, mname, mtype, seqid, body in messages(lib):
            spec = body_spec(case)
            cls = type(body)
            want = canon(body, STRUCT, spec)
            for proto in MESSAGE_PROTOCOLS:
                reason = message_unsupported(lib, proto, seqid)
                if reason:
                    skipped.append("%s %s message %s: %s" % (lib, proto, case, reason))
                    continue
                for path in paths:
                    where = "%s reading %s message %s %s" % (lib, path, proto, case)
                    fname = os.path.join(src, "%s.%s.msg.%s.bin" % (path, proto, case))
                    if not os.path.exists(fname) and path != "derived":
                        continue  # messages are written by the derived path only
                    checked += 1
                    try:
                        with open(fname, "rb") as f:
                            header, got = decode_message(lib, proto, cls, f.read())
                    except Exception as e:  # noqa: BLE001
                        failures.append("%s: %s: %s" % (where, type(e).__name__, e))
                        continue
                    if header != (mname, mtype, seqid):
                        failures.append("%s: header %r, want %r"
                                        % (where, header, (mname, mtype, seqid)))
                    if canon(got, STRUCT, spec) != want:
                        failures.append("%s: body differs\n  want %s\n  got  %s"
                                        % (where, short(want), short(canon(got, STRUCT, spec))))
    for s in skipped:
        print("skipped: " + s)
    print("checked %d decodes of %s" % (checked, ", ".join(paths)))
    if failures:
        for f in failures:
            print("FAIL " + f)
        print("%d failures" % len(failures))
        sys.exit(1)


def short(v, n=1500):
    s = repr(v)
    return s if len(s) <= n else s[:n] + "... (%d chars)" % len(s)


def main():
    global TP, AP
    # A runaway library loop must not take the machine's memory down with it.
    import resource
    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    soft = 3 << 30 if hard == resource.RLIM_INFINITY else min(3 << 30, hard)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    if len(sys.argv) != 3 or sys.argv[1] not in ("write", "check"):
        die("usage: interop.py write|check DIR")
    cmd, d = sys.argv[1], os.path.abspath(sys.argv[2])
    TP, AP = setup(os.path.dirname(d))
    if cmd == "write":
        cmd_write(d)
    else:
        cmd_check(d)


TP = AP = None

if __name__ == "__main__":
    main()

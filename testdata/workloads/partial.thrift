// Partial views of baseline.thrift's Simple and Nesting: decoding full Simple/Nesting bytes
// into these types must skip the fields they leave out (the "skip decode" workload).
// Field ids follow cloudwego/dynamicgo testdata/idl/baseline.thrift.
include "../idl/frugal/tests/baseline.thrift"

struct PartialSimple {
    1: byte ByteField
    3: double DoubleField
    6: binary BinaryField
}

struct PartialNesting {
    2: list<PartialSimple> ListSimple
    8: PartialSimple SimpleStruct
    15: map<string, PartialSimple> MapStringSimple
}

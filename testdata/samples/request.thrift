// Validation rules for the `dynthrift validate` samples (request-ok.bin, request-bad.bin):
// the example of dynthrift::validate's documentation, in thrift-gen-validator's vocabulary.
struct Request {
    1: required string Message (vt.max_size = "30", vt.prefix = "Debug")
    2: i32 ID (vt.gt = "1000", vt.lt = "10000")
    3: list<double> Values (vt.elem.gt = "0.25")
    4: string Level (vt.in = "Debug", vt.in = "Info")
}

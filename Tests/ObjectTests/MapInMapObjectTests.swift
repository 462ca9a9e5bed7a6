import Foundation
import Testing
import BPFVM

/// libbpf's map-in-map declarations: `__array(values, struct inner)` templates and initial values.
@Suite("Maps of maps declared in objects", .enabled(if: BPFCompiler.clang != nil, "clang not found"))
struct MapInMapObjectTests {
    static let header = """
        #include <linux/bpf.h>
        #include <bpf/bpf_helpers.h>
        char LICENSE[] SEC("license") = "GPL";
        struct inner { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 8); __type(key, __u32); __type(value, __u64); };

        """

    static let dispatch = header + """
        struct inner even SEC(".maps"), odd SEC(".maps");
        struct {
            __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
            __uint(max_entries, 4);
            __type(key, __u32);
            __array(values, struct inner);
        } by_parity SEC(".maps") = { .values = { [0] = &even, [1] = &odd } };
        struct {
            __uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
            __uint(max_entries, 16);
            __type(key, __u32);
            __array(values, struct inner);
        } by_tenant SEC(".maps");

        SEC("socket") int count(__u32 *ctx)
        {
            __u32 value = *ctx, index = value & 1;
            __u64 one = 1, *count;
            void *table = bpf_map_lookup_elem(&by_parity, &index);
            if (!table) return -1;
            count = bpf_map_lookup_elem(table, &value);
            if (count) __sync_fetch_and_add(count, 1);
            else bpf_map_update_elem(table, &value, &one, BPF_NOEXIST);
            void *tenant = bpf_map_lookup_elem(&by_tenant, &value);
            return tenant ? 100 : 0;
        }
        """

    @Test("templates and initial values are read; lookups reach the inner maps; hosts add inner maps before load",
          arguments: [true, false])
    func dispatch(checked: Bool) throws {
        let object = try Object(bytes: BPFCompiler.compile(Self.dispatch), name: "mim")
        let declared = try #require(object.maps.first { $0.name == "by_parity" })
        let template = try #require(declared.runtimeDefinition().innerMap)
        #expect(template == MapDefinition(name: "by_parity.inner", type: .hash, keySize: 4, valueSize: 8, maxEntries: 8))
        #expect(declared.valueSize == 4 && declared.initialValues == [0: "even", 1: "odd"])
        let loaded = try LoadedObject(object)
        let outer = try #require(loaded.map(named: "by_parity"))
        // The initial values are stored when a program that uses the map is loaded.
        #expect(outer.innerMap(forKey: le(UInt32(0))) == nil)
        // A tenant table made from the template, before load.
        var tenantDefinition = try #require(loaded.map(named: "by_tenant")?.definition.innerMap)
        tenantDefinition.name = "tenant_7"
        let tenant = try loaded.addMap(tenantDefinition)
        try #require(loaded.map(named: "by_tenant")).setInnerMap(tenant, forKey: le(UInt32(7)))
        try loaded.load()
        #expect(outer.innerMap(forKey: le(UInt32(0))) === loaded.map(named: "even"))
        #expect(outer.innerMap(forKey: le(UInt32(1))) === loaded.map(named: "odd"))
        #expect(throws: ObjectError.self) { try loaded.addMap(tenantDefinition) }
        let program = try loaded.program(named: "count")
        var results: [UInt64] = []
        for value: UInt32 in [4, 7, 4, 9, 7] {
            var context = le(value)
            results.append(try context.withUnsafeMutableBytes { try program.run(memory: $0, checked: checked) })
        }
        #expect(results == [0, 100, 0, 0, 100])
        #expect(loaded.map(named: "even")?.value(forKey: UInt32(4), as: UInt64.self) == 2)
        #expect(loaded.map(named: "odd")?.value(forKey: UInt32(7), as: UInt64.self) == 2)
        #expect(loaded.map(named: "odd")?.value(forKey: UInt32(9), as: UInt64.self) == 1)
    }

    @Test("map-in-map declarations libbpf cannot create parse, and fail the programs that use them", arguments: [
        ("""
         struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 4); __type(key, __u32); __type(value, __u32);
                  __array(values, struct inner); } bad SEC(".maps");
         """, "only a map of maps may have an inner map template (__array(values, struct { ... }))"),
        ("""
         struct { __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS); __uint(max_entries, 4); __array(values, int); }
             bad SEC(".maps");
         """, "invalid definition: array_of_maps needs an inner map template"),
    ])
    func refusedAtLoad(declaration: String, message: String) throws {
        let bytes = try BPFCompiler.compile(Self.header + declaration
            + "\nSEC(\"socket\") int p(void *c) { return bpf_map_lookup_elem(&bad, &(int){0}) != 0; }\n")
        let object = try Object(bytes: bytes, name: "bad")
        #expect(object.maps.map(\.name) == ["bad"])
        #expect(object.maps[0].unavailability.map { $0.contains(message) } ?? true)
        let error = #expect(throws: ObjectError.self) { try LoadedObject(object).load() }
        #expect(error.map { "\($0)".contains(message) } == true, "\(String(describing: error))")
    }

    @Test("an inner map that declares values of its own is refused when parsing, as libbpf refuses it")
    func nestedValues() throws {
        let bytes = try BPFCompiler.compile(Self.header + """
            struct middle { __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS); __uint(max_entries, 1); __array(values, struct inner); };
            struct { __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS); __uint(max_entries, 4); __array(values, struct middle); }
                bad SEC(".maps");
            SEC("socket") int p(void *c) { return 0; }
            """)
        let error = #expect(throws: ObjectError.self) { try Object(bytes: bytes, name: "bad") }
        #expect(error?.description == "map 'bad.inner': an inner map may not declare values of its own")
    }

    @Test("a map of maps without a template cannot be created")
    func noTemplate() throws {
        let bytes = try BPFCompiler.compile(Self.header + """
            struct { __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS); __uint(max_entries, 4); __type(key, __u32); __type(value, __u32); }
                bare SEC(".maps");
            SEC("socket") int p(void *c) { return 0; }
            """)
        let object = try Object(bytes: bytes, name: "bare")
        let error = #expect(throws: ObjectError.self) { try LoadedObject(object) }
        #expect(error?.description == "map 'bare': invalid definition: array_of_maps needs an inner map"
            + " template: declare __array(values, struct { ... }) in its definition")
    }
}

;; WebAssembly SIMD (f64x2) kernels: a cache-blocked, register-tiled gemm, tanh, element-wise ops
;; (arithmetic, sqrt, abs, relu, sigmoid, softplus, maximum, backward rules), row maxima.
;; Compiled into lib/_wasm_bytes.ts by scripts/build_wasm.ts; loaded by lib/_wasm.ts. Each
;; kernel performs the same floating-point operations in the same order as its TypeScript twin
;; in lib/_kernels.ts, so the two give identical bits (tests/kernels_test.ts checks this).
;; All pointers are byte offsets into the exported memory; sizes are element counts.
(module
  (memory (export "memory") 1)

  ;; gemm packs op(A) into panels of 2 rows and op(B) into panels of 8 columns, so that the
  ;; micro-kernel reads both contiguously (small operands are read in place instead), and
  ;; keeps a 2 x 8 tile of C in 8 f64x2 sums.
  ;; (On x64 V8 gives wasm 16 vector registers: 8 sums, 4 B vectors and an A value fit; 12
  ;; sums spill. 2 x 8 measured a little faster than 4 x 4.) Blocking: a packed B panel
  ;; (KC x 8, 16 KiB) stays in L1 while it meets every A panel of a block (MC x KC, in L2).
  (global $KC i32 (i32.const 256))
  (global $MC i32 (i32.const 64))
  ;; Operands of at most this many numbers (256 KiB) are not packed.
  (global $SMALL i32 (i32.const 32768))

  ;; Packs rows [i0, i0+mc) x inner indices [p0, p0+kc) of op(A), where A(i,p) is at
  ;; a + 8 (i sai + p sap), into panels of 2 rows: for each p, A(i, p) and A(i+1, p), the
  ;; second zero past the last row.
  (func $packA (param $a i32) (param $sai i32) (param $sap i32) (param $i0 i32) (param $mc i32)
               (param $p0 i32) (param $kc i32) (param $dst i32)
    (local $ir i32) (local $src i32) (local $end i32)
    (local.set $sai (i32.shl (local.get $sai) (i32.const 3)))
    (local.set $sap (i32.shl (local.get $sap) (i32.const 3)))
    (loop $panels
      (local.set $src (i32.add (local.get $a)
        (i32.add (i32.mul (i32.add (local.get $i0) (local.get $ir)) (local.get $sai))
                 (i32.mul (local.get $p0) (local.get $sap)))))
      (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $kc) (i32.const 4))))
      (if (i32.lt_u (i32.add (local.get $ir) (i32.const 1)) (local.get $mc))
        (then
          (if (i32.eq (local.get $sai) (i32.const 8))
            (then
              (loop $steps ;; the two rows are adjacent in memory (A transposed)
                (v128.store (local.get $dst) (v128.load (local.get $src)))
                (local.set $src (i32.add (local.get $src) (local.get $sap)))
                (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
                (br_if $steps (i32.lt_u (local.get $dst) (local.get $end)))))
            (else
              (loop $steps
                (f64.store (local.get $dst) (f64.load (local.get $src)))
                (f64.store offset=8 (local.get $dst)
                  (f64.load (i32.add (local.get $src) (local.get $sai))))
                (local.set $src (i32.add (local.get $src) (local.get $sap)))
                (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
                (br_if $steps (i32.lt_u (local.get $dst) (local.get $end)))))))
        (else
          (loop $steps
            (f64.store (local.get $dst) (f64.load (local.get $src)))
            (f64.store offset=8 (local.get $dst) (f64.const 0))
            (local.set $src (i32.add (local.get $src) (local.get $sap)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
            (br_if $steps (i32.lt_u (local.get $dst) (local.get $end))))))
      (local.set $ir (i32.add (local.get $ir) (i32.const 2)))
      (br_if $panels (i32.lt_u (local.get $ir) (local.get $mc)))))

  ;; Packs inner indices [p0, p0+kc) x all n columns of op(B), where B(p,j) is at
  ;; b + 8 (p sbp + j sbj), into panels of 8 columns: for each p, B(p, j..j+7), zero past n.
  (func $packB (param $b i32) (param $sbp i32) (param $sbj i32) (param $n i32)
               (param $p0 i32) (param $kc i32) (param $dst i32)
    (local $jr i32) (local $src i32) (local $end i32) (local $cols i32) (local $l i32)
    (local $q i32)
    (local.set $sbp (i32.shl (local.get $sbp) (i32.const 3)))
    (local.set $sbj (i32.shl (local.get $sbj) (i32.const 3)))
    (loop $panels
      (local.set $src (i32.add (local.get $b)
        (i32.add (i32.mul (local.get $p0) (local.get $sbp))
                 (i32.mul (local.get $jr) (local.get $sbj)))))
      (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $kc) (i32.const 6))))
      (local.set $cols (i32.sub (local.get $n) (local.get $jr)))
      (if (i32.and (i32.ge_u (local.get $cols) (i32.const 8)) (i32.eq (local.get $sbj) (i32.const 8)))
        (then
          (loop $steps ;; eight adjacent numbers: four vector copies
            (v128.store (local.get $dst) (v128.load (local.get $src)))
            (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $src)))
            (v128.store offset=32 (local.get $dst) (v128.load offset=32 (local.get $src)))
            (v128.store offset=48 (local.get $dst) (v128.load offset=48 (local.get $src)))
            (local.set $src (i32.add (local.get $src) (local.get $sbp)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 64)))
            (br_if $steps (i32.lt_u (local.get $dst) (local.get $end)))))
        (else
          (if (i32.ge_u (local.get $cols) (i32.const 8))
            (then
              (loop $steps ;; a gather from eight columns
                (local.set $q (local.get $src))
                (f64.store offset=0 (local.get $dst) (f64.load (local.get $q)))
                (local.set $q (i32.add (local.get $q) (local.get $sbj)))
                (f64.store offset=8 (local.get $dst) (f64.load (local.get $q)))
                (local.set $q (i32.add (local.get $q) (local.get $sbj)))
                (f64.store offset=16 (local.get $dst) (f64.load (local.get $q)))
                (local.set $q (i32.add (local.get $q) (local.get $sbj)))
                (f64.store offset=24 (local.get $dst) (f64.load (local.get $q)))
                (local.set $q (i32.add (local.get $q) (local.get $sbj)))
                (f64.store offset=32 (local.get $dst) (f64.load (local.get $q)))
                (local.set $q (i32.add (local.get $q) (local.get $sbj)))
                (f64.store offset=40 (local.get $dst) (f64.load (local.get $q)))
                (local.set $q (i32.add (local.get $q) (local.get $sbj)))
                (f64.store offset=48 (local.get $dst) (f64.load (local.get $q)))
                (local.set $q (i32.add (local.get $q) (local.get $sbj)))
                (f64.store offset=56 (local.get $dst) (f64.load (local.get $q)))
                (local.set $src (i32.add (local.get $src) (local.get $sbp)))
                (local.set $dst (i32.add (local.get $dst) (i32.const 64)))
                (br_if $steps (i32.lt_u (local.get $dst) (local.get $end)))))
            (else
              (loop $steps ;; the last, partial panel: zero past the last column
                (local.set $q (local.get $src))
                (local.set $l (i32.const 0))
                (loop $lanes
                  (f64.store (local.get $dst)
                    (if (result f64) (i32.lt_u (local.get $l) (local.get $cols))
                      (then (f64.load (local.get $q)))
                      (else (f64.const 0))))
                  (local.set $q (i32.add (local.get $q) (local.get $sbj)))
                  (local.set $dst (i32.add (local.get $dst) (i32.const 8)))
                  (local.set $l (i32.add (local.get $l) (i32.const 1)))
                  (br_if $lanes (i32.lt_u (local.get $l) (i32.const 8))))
                (local.set $src (i32.add (local.get $src) (local.get $sbp)))
                (br_if $steps (i32.lt_u (local.get $dst) (local.get $end))))))))
      (local.set $jr (i32.add (local.get $jr) (i32.const 8)))
      (br_if $panels (i32.lt_u (local.get $jr) (local.get $n)))))

  ;; The 2 x 8 tile at c (rows ldc bytes apart) = (load ? itself : 0) + the sum over kc steps
  ;; of A values times B rows, each sum taken in order of p. At step p, A(i, p) is at ap and
  ;; A(i+1, p) at ap + aRow, B(p, j..j+7) at bp; ap advances by aStep and bp by bStep. So the
  ;; operands may be packed panels or, for small problems, the matrices themselves.
  ;; Unrolled four steps a pass (then one at a time), which measured ~5% faster than none.
  (func $micro (param $ap i32) (param $aRow i32) (param $aStep i32) (param $bp i32)
               (param $bStep i32) (param $kc i32) (param $c i32) (param $ldc i32) (param $load i32)
    (local $c00 v128) (local $c01 v128) (local $c02 v128) (local $c03 v128)
    (local $c10 v128) (local $c11 v128) (local $c12 v128) (local $c13 v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128) (local $x v128)
    (local $ap2 i32) (local $passes i32) (local $r i32)
    (if (local.get $load)
      (then
        (local.set $c00 (v128.load offset=0 (local.get $c)))
        (local.set $c01 (v128.load offset=16 (local.get $c)))
        (local.set $c02 (v128.load offset=32 (local.get $c)))
        (local.set $c03 (v128.load offset=48 (local.get $c)))
        (local.set $r (i32.add (local.get $c) (local.get $ldc)))
        (local.set $c10 (v128.load offset=0 (local.get $r)))
        (local.set $c11 (v128.load offset=16 (local.get $r)))
        (local.set $c12 (v128.load offset=32 (local.get $r)))
        (local.set $c13 (v128.load offset=48 (local.get $r)))
))
    (local.set $ap2 (i32.add (local.get $ap) (local.get $aRow)))
    (local.set $passes (i32.shr_u (local.get $kc) (i32.const 2)))
    (if (local.get $passes)
      (then
        (loop $fourSteps
          (local.set $b0 (v128.load offset=0 (local.get $bp)))
          (local.set $b1 (v128.load offset=16 (local.get $bp)))
          (local.set $b2 (v128.load offset=32 (local.get $bp)))
          (local.set $b3 (v128.load offset=48 (local.get $bp)))
          (local.set $x (v128.load64_splat (local.get $ap)))
          (local.set $c00 (f64x2.add (local.get $c00) (f64x2.mul (local.get $x) (local.get $b0))))
          (local.set $c01 (f64x2.add (local.get $c01) (f64x2.mul (local.get $x) (local.get $b1))))
          (local.set $c02 (f64x2.add (local.get $c02) (f64x2.mul (local.get $x) (local.get $b2))))
          (local.set $c03 (f64x2.add (local.get $c03) (f64x2.mul (local.get $x) (local.get $b3))))
          (local.set $x (v128.load64_splat (local.get $ap2)))
          (local.set $c10 (f64x2.add (local.get $c10) (f64x2.mul (local.get $x) (local.get $b0))))
          (local.set $c11 (f64x2.add (local.get $c11) (f64x2.mul (local.get $x) (local.get $b1))))
          (local.set $c12 (f64x2.add (local.get $c12) (f64x2.mul (local.get $x) (local.get $b2))))
          (local.set $c13 (f64x2.add (local.get $c13) (f64x2.mul (local.get $x) (local.get $b3))))
          (local.set $ap (i32.add (local.get $ap) (local.get $aStep)))
          (local.set $ap2 (i32.add (local.get $ap2) (local.get $aStep)))
          (local.set $bp (i32.add (local.get $bp) (local.get $bStep)))
          (local.set $b0 (v128.load offset=0 (local.get $bp)))
          (local.set $b1 (v128.load offset=16 (local.get $bp)))
          (local.set $b2 (v128.load offset=32 (local.get $bp)))
          (local.set $b3 (v128.load offset=48 (local.get $bp)))
          (local.set $x (v128.load64_splat (local.get $ap)))
          (local.set $c00 (f64x2.add (local.get $c00) (f64x2.mul (local.get $x) (local.get $b0))))
          (local.set $c01 (f64x2.add (local.get $c01) (f64x2.mul (local.get $x) (local.get $b1))))
          (local.set $c02 (f64x2.add (local.get $c02) (f64x2.mul (local.get $x) (local.get $b2))))
          (local.set $c03 (f64x2.add (local.get $c03) (f64x2.mul (local.get $x) (local.get $b3))))
          (local.set $x (v128.load64_splat (local.get $ap2)))
          (local.set $c10 (f64x2.add (local.get $c10) (f64x2.mul (local.get $x) (local.get $b0))))
          (local.set $c11 (f64x2.add (local.get $c11) (f64x2.mul (local.get $x) (local.get $b1))))
          (local.set $c12 (f64x2.add (local.get $c12) (f64x2.mul (local.get $x) (local.get $b2))))
          (local.set $c13 (f64x2.add (local.get $c13) (f64x2.mul (local.get $x) (local.get $b3))))
          (local.set $ap (i32.add (local.get $ap) (local.get $aStep)))
          (local.set $ap2 (i32.add (local.get $ap2) (local.get $aStep)))
          (local.set $bp (i32.add (local.get $bp) (local.get $bStep)))
          (local.set $b0 (v128.load offset=0 (local.get $bp)))
          (local.set $b1 (v128.load offset=16 (local.get $bp)))
          (local.set $b2 (v128.load offset=32 (local.get $bp)))
          (local.set $b3 (v128.load offset=48 (local.get $bp)))
          (local.set $x (v128.load64_splat (local.get $ap)))
          (local.set $c00 (f64x2.add (local.get $c00) (f64x2.mul (local.get $x) (local.get $b0))))
          (local.set $c01 (f64x2.add (local.get $c01) (f64x2.mul (local.get $x) (local.get $b1))))
          (local.set $c02 (f64x2.add (local.get $c02) (f64x2.mul (local.get $x) (local.get $b2))))
          (local.set $c03 (f64x2.add (local.get $c03) (f64x2.mul (local.get $x) (local.get $b3))))
          (local.set $x (v128.load64_splat (local.get $ap2)))
          (local.set $c10 (f64x2.add (local.get $c10) (f64x2.mul (local.get $x) (local.get $b0))))
          (local.set $c11 (f64x2.add (local.get $c11) (f64x2.mul (local.get $x) (local.get $b1))))
          (local.set $c12 (f64x2.add (local.get $c12) (f64x2.mul (local.get $x) (local.get $b2))))
          (local.set $c13 (f64x2.add (local.get $c13) (f64x2.mul (local.get $x) (local.get $b3))))
          (local.set $ap (i32.add (local.get $ap) (local.get $aStep)))
          (local.set $ap2 (i32.add (local.get $ap2) (local.get $aStep)))
          (local.set $bp (i32.add (local.get $bp) (local.get $bStep)))
          (local.set $b0 (v128.load offset=0 (local.get $bp)))
          (local.set $b1 (v128.load offset=16 (local.get $bp)))
          (local.set $b2 (v128.load offset=32 (local.get $bp)))
          (local.set $b3 (v128.load offset=48 (local.get $bp)))
          (local.set $x (v128.load64_splat (local.get $ap)))
          (local.set $c00 (f64x2.add (local.get $c00) (f64x2.mul (local.get $x) (local.get $b0))))
          (local.set $c01 (f64x2.add (local.get $c01) (f64x2.mul (local.get $x) (local.get $b1))))
          (local.set $c02 (f64x2.add (local.get $c02) (f64x2.mul (local.get $x) (local.get $b2))))
          (local.set $c03 (f64x2.add (local.get $c03) (f64x2.mul (local.get $x) (local.get $b3))))
          (local.set $x (v128.load64_splat (local.get $ap2)))
          (local.set $c10 (f64x2.add (local.get $c10) (f64x2.mul (local.get $x) (local.get $b0))))
          (local.set $c11 (f64x2.add (local.get $c11) (f64x2.mul (local.get $x) (local.get $b1))))
          (local.set $c12 (f64x2.add (local.get $c12) (f64x2.mul (local.get $x) (local.get $b2))))
          (local.set $c13 (f64x2.add (local.get $c13) (f64x2.mul (local.get $x) (local.get $b3))))
          (local.set $ap (i32.add (local.get $ap) (local.get $aStep)))
          (local.set $ap2 (i32.add (local.get $ap2) (local.get $aStep)))
          (local.set $bp (i32.add (local.get $bp) (local.get $bStep)))
          (local.set $passes (i32.sub (local.get $passes) (i32.const 1)))
          (br_if $fourSteps (local.get $passes)))))
    (local.set $passes (i32.and (local.get $kc) (i32.const 3)))
    (if (local.get $passes)
      (then
        (loop $steps
          (local.set $b0 (v128.load offset=0 (local.get $bp)))
          (local.set $b1 (v128.load offset=16 (local.get $bp)))
          (local.set $b2 (v128.load offset=32 (local.get $bp)))
          (local.set $b3 (v128.load offset=48 (local.get $bp)))
          (local.set $x (v128.load64_splat (local.get $ap)))
          (local.set $c00 (f64x2.add (local.get $c00) (f64x2.mul (local.get $x) (local.get $b0))))
          (local.set $c01 (f64x2.add (local.get $c01) (f64x2.mul (local.get $x) (local.get $b1))))
          (local.set $c02 (f64x2.add (local.get $c02) (f64x2.mul (local.get $x) (local.get $b2))))
          (local.set $c03 (f64x2.add (local.get $c03) (f64x2.mul (local.get $x) (local.get $b3))))
          (local.set $x (v128.load64_splat (local.get $ap2)))
          (local.set $c10 (f64x2.add (local.get $c10) (f64x2.mul (local.get $x) (local.get $b0))))
          (local.set $c11 (f64x2.add (local.get $c11) (f64x2.mul (local.get $x) (local.get $b1))))
          (local.set $c12 (f64x2.add (local.get $c12) (f64x2.mul (local.get $x) (local.get $b2))))
          (local.set $c13 (f64x2.add (local.get $c13) (f64x2.mul (local.get $x) (local.get $b3))))
          (local.set $ap (i32.add (local.get $ap) (local.get $aStep)))
          (local.set $ap2 (i32.add (local.get $ap2) (local.get $aStep)))
          (local.set $bp (i32.add (local.get $bp) (local.get $bStep)))
          (local.set $passes (i32.sub (local.get $passes) (i32.const 1)))
          (br_if $steps (local.get $passes)))))
    (v128.store offset=0 (local.get $c) (local.get $c00))
    (v128.store offset=16 (local.get $c) (local.get $c01))
    (v128.store offset=32 (local.get $c) (local.get $c02))
    (v128.store offset=48 (local.get $c) (local.get $c03))
    (local.set $r (i32.add (local.get $c) (local.get $ldc)))
    (v128.store offset=0 (local.get $r) (local.get $c10))
    (v128.store offset=16 (local.get $r) (local.get $c11))
    (v128.store offset=32 (local.get $r) (local.get $c12))
    (v128.store offset=48 (local.get $r) (local.get $c13))
  )

  ;; Copies a rows x cols block between a matrix and a tile (rows fromLd and toLd bytes apart).
  (func $tileCopy (param $from i32) (param $fromLd i32) (param $to i32) (param $toLd i32)
                  (param $rows i32) (param $cols i32)
    (local $i i32) (local $j i32)
    (loop $r
      (local.set $j (i32.const 0))
      (loop $c
        (f64.store (i32.add (local.get $to) (i32.shl (local.get $j) (i32.const 3)))
          (f64.load (i32.add (local.get $from) (i32.shl (local.get $j) (i32.const 3)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $c (i32.lt_u (local.get $j) (local.get $cols))))
      (local.set $from (i32.add (local.get $from) (local.get $fromLd)))
      (local.set $to (i32.add (local.get $to) (local.get $toLd)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $r (i32.lt_u (local.get $i) (local.get $rows)))))

  ;; C (m x n, row-major at c) = op(A) op(B) with inner dimension k. op(A)(i,p) is at
  ;; a + 8 (i k + p), or a + 8 (p m + i) when transA; op(B)(p,j) at b + 8 (p n + j), or
  ;; b + 8 (j k + p) when transB. `work` needs 8 (MC KC + KC (n + 7) + 16) bytes.
  ;; Small operands are read in place (packing costs as much as the product there), except
  ;; that a transposed B is always packed and partial panels always are (with zeros).
  (func (export "gemm") (param $m i32) (param $n i32) (param $k i32) (param $a i32)
                        (param $transA i32) (param $b i32) (param $transB i32) (param $c i32)
                        (param $work i32)
    (local $sai i32) (local $sap i32) (local $sbp i32) (local $sbj i32)
    (local $packedA i32) (local $packedB i32) (local $tile i32) (local $ldc i32)
    (local $pc i32) (local $kc i32) (local $ic i32) (local $mc i32) (local $jr i32) (local $ir i32)
    (local $rows i32) (local $cols i32) (local $ct i32) (local $load i32)
    (local $packA i32) (local $packB i32) (local $fullCols i32) (local $fullRows i32)
    (local $bp i32) (local $bStep i32) (local $ap i32) (local $aRow i32) (local $aStep i32)
    (if (local.get $transA)
      (then (local.set $sai (i32.const 1)) (local.set $sap (local.get $m)))
      (else (local.set $sai (local.get $k)) (local.set $sap (i32.const 1))))
    (if (local.get $transB)
      (then (local.set $sbp (i32.const 1)) (local.set $sbj (local.get $k)))
      (else (local.set $sbp (local.get $n)) (local.set $sbj (i32.const 1))))
    (local.set $packA (i32.gt_u (i32.mul (local.get $m) (local.get $k)) (global.get $SMALL)))
    (local.set $packB (i32.or (local.get $transB)
      (i32.gt_u (i32.mul (local.get $k) (local.get $n)) (global.get $SMALL))))
    (local.set $fullCols (i32.and (local.get $n) (i32.const -8)))
    (local.set $packedA (local.get $work))
    (local.set $packedB (i32.add (local.get $packedA)
      (i32.shl (i32.mul (global.get $MC) (global.get $KC)) (i32.const 3))))
    (local.set $tile (i32.add (local.get $packedB)
      (i32.shl (i32.mul (global.get $KC) (i32.add (local.get $n) (i32.const 7))) (i32.const 3))))
    (local.set $ldc (i32.shl (local.get $n) (i32.const 3)))
    (loop $kBlocks
      (local.set $kc (i32.sub (local.get $k) (local.get $pc)))
      (if (i32.gt_u (local.get $kc) (global.get $KC)) (then (local.set $kc (global.get $KC))))
      (local.set $load (i32.ne (local.get $pc) (i32.const 0)))
      (if (local.get $packB)
        (then (call $packB (local.get $b) (local.get $sbp) (local.get $sbj) (local.get $n)
                           (local.get $pc) (local.get $kc) (local.get $packedB)))
        (else
          ;; only the partial panel, if any, at the start of the buffer
          (if (i32.lt_u (local.get $fullCols) (local.get $n))
            (then (call $packB
              (i32.add (local.get $b) (i32.shl (local.get $fullCols) (i32.const 3)))
              (local.get $sbp) (local.get $sbj) (i32.sub (local.get $n) (local.get $fullCols))
              (local.get $pc) (local.get $kc) (local.get $packedB))))))
      (local.set $ic (i32.const 0))
      (loop $mBlocks
        (local.set $mc (i32.sub (local.get $m) (local.get $ic)))
        (if (i32.gt_u (local.get $mc) (global.get $MC)) (then (local.set $mc (global.get $MC))))
        (local.set $fullRows (i32.and (local.get $mc) (i32.const -2)))
        (if (local.get $packA)
          (then (call $packA (local.get $a) (local.get $sai) (local.get $sap) (local.get $ic)
                             (local.get $mc) (local.get $pc) (local.get $kc) (local.get $packedA)))
          (else
            ;; only the last, odd row, if any, at the start of the buffer
            (if (i32.lt_u (local.get $fullRows) (local.get $mc))
              (then (call $packA (local.get $a) (local.get $sai) (local.get $sap)
                (i32.add (local.get $ic) (local.get $fullRows)) (i32.const 1)
                (local.get $pc) (local.get $kc) (local.get $packedA))))))
        (local.set $jr (i32.const 0))
        (loop $colPanels
          (if (local.get $packB)
            (then
              (local.set $bp (i32.add (local.get $packedB)
                (i32.shl (i32.mul (local.get $jr) (local.get $kc)) (i32.const 3))))
              (local.set $bStep (i32.const 64)))
            (else
              (if (i32.lt_u (local.get $jr) (local.get $fullCols))
                (then
                  (local.set $bp (i32.add (local.get $b) (i32.shl
                    (i32.add (i32.mul (local.get $pc) (local.get $n)) (local.get $jr))
                    (i32.const 3))))
                  (local.set $bStep (local.get $ldc)))
                (else (local.set $bp (local.get $packedB)) (local.set $bStep (i32.const 64))))))
          (local.set $ir (i32.const 0))
          (loop $rowPanels
            (if (local.get $packA)
              (then
                (local.set $ap (i32.add (local.get $packedA)
                  (i32.shl (i32.mul (local.get $ir) (local.get $kc)) (i32.const 3))))
                (local.set $aRow (i32.const 8))
                (local.set $aStep (i32.const 16)))
              (else
                (if (i32.lt_u (local.get $ir) (local.get $fullRows))
                  (then
                    (local.set $ap (i32.add (local.get $a) (i32.shl
                      (i32.add (i32.mul (i32.add (local.get $ic) (local.get $ir)) (local.get $sai))
                               (i32.mul (local.get $pc) (local.get $sap)))
                      (i32.const 3))))
                    (local.set $aRow (i32.shl (local.get $sai) (i32.const 3)))
                    (local.set $aStep (i32.shl (local.get $sap) (i32.const 3))))
                  (else
                    (local.set $ap (local.get $packedA))
                    (local.set $aRow (i32.const 8))
                    (local.set $aStep (i32.const 16))))))
            (local.set $rows (i32.sub (local.get $mc) (local.get $ir)))
            (local.set $cols (i32.sub (local.get $n) (local.get $jr)))
            (local.set $ct (i32.add (local.get $c) (i32.add
              (i32.mul (i32.add (local.get $ic) (local.get $ir)) (local.get $ldc))
              (i32.shl (local.get $jr) (i32.const 3)))))
            (if (i32.and (i32.ge_u (local.get $rows) (i32.const 2))
                         (i32.ge_u (local.get $cols) (i32.const 8)))
              (then
                (call $micro (local.get $ap) (local.get $aRow) (local.get $aStep)
                  (local.get $bp) (local.get $bStep) (local.get $kc) (local.get $ct)
                  (local.get $ldc) (local.get $load)))
              (else
                ;; An edge tile: run the full tile on a scratch copy, keep the part inside C.
                (if (i32.gt_u (local.get $rows) (i32.const 2)) (then (local.set $rows (i32.const 2))))
                (if (i32.gt_u (local.get $cols) (i32.const 8)) (then (local.set $cols (i32.const 8))))
                (if (local.get $load)
                  (then (call $tileCopy (local.get $ct) (local.get $ldc) (local.get $tile)
                                        (i32.const 64) (local.get $rows) (local.get $cols))))
                (call $micro (local.get $ap) (local.get $aRow) (local.get $aStep)
                  (local.get $bp) (local.get $bStep) (local.get $kc) (local.get $tile)
                  (i32.const 64) (local.get $load))
                (call $tileCopy (local.get $tile) (i32.const 64) (local.get $ct) (local.get $ldc)
                                (local.get $rows) (local.get $cols))))
            (local.set $ir (i32.add (local.get $ir) (i32.const 2)))
            (br_if $rowPanels (i32.lt_u (local.get $ir) (local.get $mc))))
          (local.set $jr (i32.add (local.get $jr) (i32.const 8)))
          (br_if $colPanels (i32.lt_u (local.get $jr) (local.get $n))))
        (local.set $ic (i32.add (local.get $ic) (global.get $MC)))
        (br_if $mBlocks (i32.lt_u (local.get $ic) (local.get $m))))
      (local.set $pc (i32.add (local.get $pc) (global.get $KC)))
      (br_if $kBlocks (i32.lt_u (local.get $pc) (local.get $k)))))


  ;; out = f(a, b) element-wise over rows x cols, for the BinaryKernels of lib/_kernels.ts (op
  ;; 0 add, 1 sub, 2 mul, 3 div, 4 tanhGrad: b (1 - a a), 5 maximum, 6 reluGrad: a > 0 ? b : 0,
  ;; 7 sigmoidGrad: b (a (1 - a))), by the same operations. Row i of a starts at a + i aRow; b(i, j) is at b + i bRow + j bStep,
  ;; where bStep is 8, or 0 for a b repeated along the row; out is contiguous. Callers flatten
  ;; the cases without row repeats.
  (func (export "binary") (param $op i32) (param $a i32) (param $aRow i32) (param $b i32)
                          (param $bRow i32) (param $bStep i32) (param $out i32)
                          (param $rows i32) (param $cols i32)
    (local $i i32) (local $j i32) (local $end i32) (local $pa i32) (local $pb i32)
    (local $po i32) (local $x v128) (local $y v128) (local $one v128) (local $xs f64)
    (local $ys f64)
    (local.set $one (v128.const f64x2 1 1))
    (local.set $end (i32.shl (local.get $cols) (i32.const 3)))
    (loop $rowsLoop
      (local.set $pa (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $aRow))))
      (local.set $pb (i32.add (local.get $b) (i32.mul (local.get $i) (local.get $bRow))))
      (local.set $po (i32.add (local.get $out) (i32.mul (local.get $i) (local.get $end))))
      (local.set $j (i32.const 0))
      ;; A switch on op: each (block $name ...) ends where that op's loop begins; the blocks
      ;; nest, but are written flat. Each loop takes two numbers at a time; b(i, j) and
      ;; b(i, j+1) are loaded as a splat of the first and a lane insert of the second, which
      ;; is the same number when b repeats.
      (block $tail
      (block $sigmoidGrad
      (block $reluGrad
      (block $maximum
      (block $tanhGrad
      (block $div
      (block $mul
      (block $sub
      (block $add
        (br_table $add $sub $mul $div $tanhGrad $maximum $reluGrad $sigmoidGrad (local.get $op)))
      (loop $addPairs
        (br_if $tail (i32.gt_u (i32.add (local.get $j) (i32.const 16)) (local.get $end)))
        (local.set $x (v128.load (i32.add (local.get $pa) (local.get $j))))
        (local.set $y (v128.load64_lane 1 (i32.add (local.get $pb) (local.get $bStep))
          (v128.load64_splat (local.get $pb))))
        (v128.store (i32.add (local.get $po) (local.get $j))
          (f64x2.add (local.get $x) (local.get $y)))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (local.set $pb (i32.add (local.get $pb) (i32.shl (local.get $bStep) (i32.const 1))))
        (br $addPairs)))
      (loop $subPairs
        (br_if $tail (i32.gt_u (i32.add (local.get $j) (i32.const 16)) (local.get $end)))
        (local.set $x (v128.load (i32.add (local.get $pa) (local.get $j))))
        (local.set $y (v128.load64_lane 1 (i32.add (local.get $pb) (local.get $bStep))
          (v128.load64_splat (local.get $pb))))
        (v128.store (i32.add (local.get $po) (local.get $j))
          (f64x2.sub (local.get $x) (local.get $y)))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (local.set $pb (i32.add (local.get $pb) (i32.shl (local.get $bStep) (i32.const 1))))
        (br $subPairs)))
      (loop $mulPairs
        (br_if $tail (i32.gt_u (i32.add (local.get $j) (i32.const 16)) (local.get $end)))
        (local.set $x (v128.load (i32.add (local.get $pa) (local.get $j))))
        (local.set $y (v128.load64_lane 1 (i32.add (local.get $pb) (local.get $bStep))
          (v128.load64_splat (local.get $pb))))
        (v128.store (i32.add (local.get $po) (local.get $j))
          (f64x2.mul (local.get $x) (local.get $y)))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (local.set $pb (i32.add (local.get $pb) (i32.shl (local.get $bStep) (i32.const 1))))
        (br $mulPairs)))
      (loop $divPairs
        (br_if $tail (i32.gt_u (i32.add (local.get $j) (i32.const 16)) (local.get $end)))
        (local.set $x (v128.load (i32.add (local.get $pa) (local.get $j))))
        (local.set $y (v128.load64_lane 1 (i32.add (local.get $pb) (local.get $bStep))
          (v128.load64_splat (local.get $pb))))
        (v128.store (i32.add (local.get $po) (local.get $j))
          (f64x2.div (local.get $x) (local.get $y)))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (local.set $pb (i32.add (local.get $pb) (i32.shl (local.get $bStep) (i32.const 1))))
        (br $divPairs)))
      (loop $tanhGradPairs
        (br_if $tail (i32.gt_u (i32.add (local.get $j) (i32.const 16)) (local.get $end)))
        (local.set $x (v128.load (i32.add (local.get $pa) (local.get $j))))
        (local.set $y (v128.load64_lane 1 (i32.add (local.get $pb) (local.get $bStep))
          (v128.load64_splat (local.get $pb))))
        (v128.store (i32.add (local.get $po) (local.get $j))
          (f64x2.mul (local.get $y)
          (f64x2.sub (local.get $one) (f64x2.mul (local.get $x) (local.get $x)))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (local.set $pb (i32.add (local.get $pb) (i32.shl (local.get $bStep) (i32.const 1))))
        (br $tanhGradPairs)))
      (loop $maximumPairs
        (br_if $tail (i32.gt_u (i32.add (local.get $j) (i32.const 16)) (local.get $end)))
        (local.set $x (v128.load (i32.add (local.get $pa) (local.get $j))))
        (local.set $y (v128.load64_lane 1 (i32.add (local.get $pb) (local.get $bStep))
          (v128.load64_splat (local.get $pb))))
        (v128.store (i32.add (local.get $po) (local.get $j))
          (f64x2.max (local.get $x) (local.get $y)))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (local.set $pb (i32.add (local.get $pb) (i32.shl (local.get $bStep) (i32.const 1))))
        (br $maximumPairs)))
      (loop $reluGradPairs ;; b where a > 0, else +0: the mask's zero bits give +0
        (br_if $tail (i32.gt_u (i32.add (local.get $j) (i32.const 16)) (local.get $end)))
        (local.set $x (v128.load (i32.add (local.get $pa) (local.get $j))))
        (local.set $y (v128.load64_lane 1 (i32.add (local.get $pb) (local.get $bStep))
          (v128.load64_splat (local.get $pb))))
        (v128.store (i32.add (local.get $po) (local.get $j))
          (v128.and (local.get $y) (f64x2.gt (local.get $x) (v128.const f64x2 0 0))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (local.set $pb (i32.add (local.get $pb) (i32.shl (local.get $bStep) (i32.const 1))))
        (br $reluGradPairs)))
      (loop $sigmoidGradPairs
        (br_if $tail (i32.gt_u (i32.add (local.get $j) (i32.const 16)) (local.get $end)))
        (local.set $x (v128.load (i32.add (local.get $pa) (local.get $j))))
        (local.set $y (v128.load64_lane 1 (i32.add (local.get $pb) (local.get $bStep))
          (v128.load64_splat (local.get $pb))))
        (v128.store (i32.add (local.get $po) (local.get $j))
          (f64x2.mul (local.get $y)
            (f64x2.mul (local.get $x) (f64x2.sub (local.get $one) (local.get $x)))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (local.set $pb (i32.add (local.get $pb) (i32.shl (local.get $bStep) (i32.const 1))))
        (br $sigmoidGradPairs)))
      ;; the odd last number
      (if (i32.lt_u (local.get $j) (local.get $end))
        (then
          (local.set $xs (f64.load (i32.add (local.get $pa) (local.get $j))))
          (local.set $ys (f64.load (local.get $pb)))
          (f64.store (i32.add (local.get $po) (local.get $j))
            (if (result f64) (i32.eq (local.get $op) (i32.const 0))
              (then (f64.add (local.get $xs) (local.get $ys)))
            (else (if (result f64) (i32.eq (local.get $op) (i32.const 1))
              (then (f64.sub (local.get $xs) (local.get $ys)))
            (else (if (result f64) (i32.eq (local.get $op) (i32.const 2))
              (then (f64.mul (local.get $xs) (local.get $ys)))
            (else (if (result f64) (i32.eq (local.get $op) (i32.const 3))
              (then (f64.div (local.get $xs) (local.get $ys)))
            (else (if (result f64) (i32.eq (local.get $op) (i32.const 4))
              (then (f64.mul (local.get $ys)
                (f64.sub (f64.const 1) (f64.mul (local.get $xs) (local.get $xs)))))
            (else (if (result f64) (i32.eq (local.get $op) (i32.const 5))
              (then (f64.max (local.get $xs) (local.get $ys)))
            (else (if (result f64) (i32.eq (local.get $op) (i32.const 6))
              (then (select (local.get $ys) (f64.const 0) (f64.gt (local.get $xs) (f64.const 0))))
            (else (f64.mul (local.get $ys)
              (f64.mul (local.get $xs) (f64.sub (f64.const 1) (local.get $xs)))))))))))))))))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $rowsLoop (i32.lt_u (local.get $i) (local.get $rows)))))

  ;; out[0..n) = tanh(x[0..n)), two lanes at a time (reads and writes n rounded up to even),
  ;; by the same operations in the same order as tanhInto in lib/_kernels.ts (see there).
  ;; Constants live in locals: a v128.const inside the loop would be rebuilt on every pass.
  (func (export "tanh") (param $x i32) (param $out i32) (param $n i32)
    (local $end i32) (local $v v128) (local $c v128) (local $t v128) (local $u v128)
    (local $uu v128) (local $px v128) (local $qx v128) (local $d v128) (local $s v128)
    (local $A v128)
    (local $E0 v128) (local $E1 v128) (local $F0 v128) (local $F1 v128) (local $F2 v128)
    (local $C1 v128) (local $C2 v128) (local $log2e2 v128) (local $half v128) (local $one v128)
    (local $two v128) (local $clamp v128) (local $sign v128) (local $magic v128) (local $bias v128)
    ;; Cephes' exp Pade form (E, F); ln 2 = C1 + C2 in two parts; 2 log2(e).
    (local.set $E0 (v128.const f64x2 1.26177193074810590878e-4 1.26177193074810590878e-4))
    (local.set $E1 (v128.const f64x2 3.029944077074419613e-2 3.029944077074419613e-2))
    (local.set $F0 (v128.const f64x2 3.00198505138664455042e-6 3.00198505138664455042e-6))
    (local.set $F1 (v128.const f64x2 2.52448340349684104192e-3 2.52448340349684104192e-3))
    (local.set $F2 (v128.const f64x2 2.27265548208155028766e-1 2.27265548208155028766e-1))
    (local.set $C1 (v128.const f64x2 6.93145751953125e-1 6.93145751953125e-1))
    (local.set $C2 (v128.const f64x2 1.42860682030941723212e-6 1.42860682030941723212e-6))
    (local.set $log2e2 (v128.const f64x2 2.8853900817779268 2.8853900817779268))
    (local.set $half (v128.const f64x2 0.5 0.5))
    (local.set $one (v128.const f64x2 1 1))
    (local.set $two (v128.const f64x2 2 2))
    (local.set $clamp (v128.const f64x2 22 22))
    (local.set $sign (v128.const i64x2 0x8000000000000000 0x8000000000000000))
    ;; For a whole number t < 2^52, bits(t + 2^52) - bits(2^52) = t, so adding bias =
    ;; 1023 - bits(2^52) and shifting into the exponent field gives the bits of 2^t.
    (local.set $magic (v128.const f64x2 0x1p52 0x1p52))
    (local.set $bias (v128.const i64x2 -4841369599423282177 -4841369599423282177))
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 3))))
    (loop $pairs
      (local.set $v (v128.load (local.get $x)))
      ;; c = min(|x|, 22) (pmin, unlike min, is one instruction, and keeps a NaN |x|)
      (local.set $c (f64x2.pmin (f64x2.abs (local.get $v)) (local.get $clamp)))
      (local.set $t (f64x2.floor
        (f64x2.add (f64x2.mul (local.get $c) (local.get $log2e2)) (local.get $half))))
      (local.set $u (f64x2.sub
        (f64x2.sub (f64x2.add (local.get $c) (local.get $c))
                   (f64x2.mul (local.get $t) (local.get $C1)))
        (f64x2.mul (local.get $t) (local.get $C2))))
      (local.set $uu (f64x2.mul (local.get $u) (local.get $u)))
      (local.set $px (f64x2.add (local.get $u)
        (f64x2.mul (f64x2.mul (local.get $u) (local.get $uu))
          (f64x2.add (f64x2.mul (local.get $E0) (local.get $uu)) (local.get $E1)))))
      (local.set $qx (f64x2.add
        (f64x2.mul
          (f64x2.add (f64x2.mul (local.get $F0) (local.get $uu)) (local.get $F1))
          (f64x2.mul (local.get $uu) (local.get $uu)))
        (f64x2.add (f64x2.mul (local.get $F2) (local.get $uu)) (local.get $two))))
      (local.set $d (f64x2.sub (local.get $qx) (local.get $px)))
      ;; s = 2^t (a whole number in [0, 64] here; any value in a NaN lane, which stays NaN)
      (local.set $s (i64x2.shl
        (i64x2.add (f64x2.add (local.get $t) (local.get $magic)) (local.get $bias))
        (i32.const 52)))
      (local.set $A (f64x2.add
        (f64x2.mul (local.get $s) (f64x2.add (local.get $px) (local.get $px)))
        (f64x2.mul (f64x2.sub (local.get $s) (local.get $one)) (local.get $d))))
      ;; tanh c = A / (A + 2d), with x's sign put back (c >= 0, so its sign bit is clear)
      (v128.store (local.get $out)
        (v128.or
          (f64x2.div (local.get $A)
            (f64x2.add (local.get $A) (f64x2.add (local.get $d) (local.get $d))))
          (v128.and (local.get $v) (local.get $sign))))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $out (i32.add (local.get $out) (i32.const 16)))
      (br_if $pairs (i32.lt_u (local.get $x) (local.get $end)))))

  ;; e^-|v| two lanes at a time, by the same operations in the same order as expNegAbs in
  ;; lib/_kernels.ts (see there): c = min(|v|, 750) = t ln2 + w, e^-w = 1 - 2p / (q + p),
  ;; times 2^-h and 2^-(t-h) with h = floor(t / 2), each built from its exponent bits.
  (func $expNegAbs (param $v v128) (result v128)
    (local $c v128) (local $t v128) (local $w v128) (local $ww v128) (local $px v128)
    (local $qx v128) (local $h v128) (local $r v128)
    (local.set $c (f64x2.pmin (f64x2.abs (local.get $v)) (v128.const f64x2 750 750)))
    (local.set $t (f64x2.floor (f64x2.add
      (f64x2.mul (local.get $c) (v128.const f64x2 1.4426950408889634 1.4426950408889634))
      (v128.const f64x2 0.5 0.5))))
    (local.set $w (f64x2.sub
      (f64x2.sub (local.get $c)
        (f64x2.mul (local.get $t) (v128.const f64x2 6.93145751953125e-1 6.93145751953125e-1)))
      (f64x2.mul (local.get $t)
        (v128.const f64x2 1.42860682030941723212e-6 1.42860682030941723212e-6))))
    (local.set $ww (f64x2.mul (local.get $w) (local.get $w)))
    (local.set $px (f64x2.add (local.get $w)
      (f64x2.mul (f64x2.mul (local.get $w) (local.get $ww))
        (f64x2.add
          (f64x2.mul
            (v128.const f64x2 1.26177193074810590878e-4 1.26177193074810590878e-4) (local.get $ww))
          (v128.const f64x2 3.029944077074419613e-2 3.029944077074419613e-2)))))
    (local.set $qx (f64x2.add
      (f64x2.mul
        (f64x2.add
          (f64x2.mul
            (v128.const f64x2 3.00198505138664455042e-6 3.00198505138664455042e-6) (local.get $ww))
          (v128.const f64x2 2.52448340349684104192e-3 2.52448340349684104192e-3))
        (f64x2.mul (local.get $ww) (local.get $ww)))
      (f64x2.add
        (f64x2.mul
          (v128.const f64x2 2.27265548208155028766e-1 2.27265548208155028766e-1) (local.get $ww))
        (v128.const f64x2 2 2))))
    (local.set $r (f64x2.sub (v128.const f64x2 1 1)
      (f64x2.div (f64x2.add (local.get $px) (local.get $px))
                 (f64x2.add (local.get $qx) (local.get $px)))))
    (local.set $h (f64x2.floor (f64x2.mul (local.get $t) (v128.const f64x2 0.5 0.5))))
    ;; 2^-n for a whole n in [0, 541]: bits (1023 - n) << 52, where n = bits(n + 2^52) - bits(2^52)
    (f64x2.mul
      (f64x2.mul (local.get $r)
        (i64x2.shl (i64x2.sub (v128.const i64x2 0x43300000000003ff 0x43300000000003ff)
          (f64x2.add (local.get $h) (v128.const f64x2 0x1p52 0x1p52))) (i32.const 52)))
      (i64x2.shl (i64x2.sub (v128.const i64x2 0x43300000000003ff 0x43300000000003ff)
        (f64x2.add (f64x2.sub (local.get $t) (local.get $h)) (v128.const f64x2 0x1p52 0x1p52)))
        (i32.const 52))))

  ;; The logistic function, as sigmoidScalar: e / (1 + e) where v < 0, else 1 / (1 + e).
  (func $sigmoid (param $v v128) (result v128)
    (local $e v128) (local $d v128)
    (local.set $e (call $expNegAbs (local.get $v)))
    (local.set $d (f64x2.add (v128.const f64x2 1 1) (local.get $e)))
    (v128.bitselect (f64x2.div (local.get $e) (local.get $d))
                    (f64x2.div (v128.const f64x2 1 1) (local.get $d))
                    (f64x2.lt (local.get $v) (v128.const f64x2 0 0))))

  ;; softplus, as softplusScalar: (v > 0 ? v : 0) + log1p(e^-|v|) by fdlibm's log1p, with
  ;; k = 1 (and f = (e - 1) / 2) where e >= sqrt(2) - 1, else k = 0 and f = e.
  (func $softplus (param $v v128) (result v128)
    (local $e v128) (local $mask v128) (local $k v128) (local $f v128) (local $hfsq v128)
    (local $s v128) (local $z v128) (local $R v128)
    (local.set $e (call $expNegAbs (local.get $v)))
    (local.set $mask (f64x2.ge (local.get $e)
      (v128.const f64x2 0.41421356237309503 0.41421356237309503)))
    (local.set $k (v128.and (local.get $mask) (v128.const f64x2 1 1)))
    (local.set $f (v128.bitselect
      (f64x2.mul (f64x2.sub (local.get $e) (v128.const f64x2 1 1)) (v128.const f64x2 0.5 0.5))
      (local.get $e) (local.get $mask)))
    (local.set $hfsq (f64x2.mul (f64x2.mul (v128.const f64x2 0.5 0.5) (local.get $f))
      (local.get $f)))
    (local.set $s (f64x2.div (local.get $f) (f64x2.add (v128.const f64x2 2 2) (local.get $f))))
    (local.set $z (f64x2.mul (local.get $s) (local.get $s)))
    ;; R = z (Lp1 + z (Lp2 + z (Lp3 + z (Lp4 + z (Lp5 + z (Lp6 + z Lp7))))))
    (local.set $R (f64x2.mul (local.get $z)
      (v128.const f64x2 1.479819860511658591e-01 1.479819860511658591e-01)))
    (local.set $R (f64x2.mul (local.get $z) (f64x2.add
      (v128.const f64x2 1.531383769920937332e-01 1.531383769920937332e-01) (local.get $R))))
    (local.set $R (f64x2.mul (local.get $z) (f64x2.add
      (v128.const f64x2 1.818357216161805012e-01 1.818357216161805012e-01) (local.get $R))))
    (local.set $R (f64x2.mul (local.get $z) (f64x2.add
      (v128.const f64x2 2.222219843214978396e-01 2.222219843214978396e-01) (local.get $R))))
    (local.set $R (f64x2.mul (local.get $z) (f64x2.add
      (v128.const f64x2 2.857142874366239149e-01 2.857142874366239149e-01) (local.get $R))))
    (local.set $R (f64x2.mul (local.get $z) (f64x2.add
      (v128.const f64x2 3.999999999940941908e-01 3.999999999940941908e-01) (local.get $R))))
    (local.set $R (f64x2.mul (local.get $z) (f64x2.add
      (v128.const f64x2 6.666666666666735130e-01 6.666666666666735130e-01) (local.get $R))))
    (f64x2.add
      (v128.and (local.get $v) (f64x2.gt (local.get $v) (v128.const f64x2 0 0)))
      (f64x2.sub
        (f64x2.mul (local.get $k)
          (v128.const f64x2 6.93147180369123816490e-01 6.93147180369123816490e-01))
        (f64x2.sub
          (f64x2.sub (local.get $hfsq)
            (f64x2.add
              (f64x2.mul (local.get $s) (f64x2.add (local.get $hfsq) (local.get $R)))
              (f64x2.mul (local.get $k)
                (v128.const f64x2 1.90821492927058770002e-10 1.90821492927058770002e-10))))
          (local.get $f)))))

  ;; out[0..n) = f(x[0..n)) for the UnaryKernels of lib/_kernels.ts (op 0 sqrt, 1 abs, 2 relu,
  ;; 3 sigmoid, 4 softplus), two lanes at a time (reads and writes n rounded up to even). A
  ;; switch on op as in "binary": each op's loop begins where its block ends.
  (func (export "unary") (param $op i32) (param $x i32) (param $out i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 3))))
    (if (i32.ge_u (local.get $x) (local.get $end)) (then (return)))
    (block $softplus
    (block $sigmoid
    (block $relu
    (block $abs
    (block $sqrt
      (br_table $sqrt $abs $relu $sigmoid $softplus (local.get $op)))
    (loop $sqrtPairs
      (v128.store (local.get $out) (f64x2.sqrt (v128.load (local.get $x))))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $out (i32.add (local.get $out) (i32.const 16)))
      (br_if $sqrtPairs (i32.lt_u (local.get $x) (local.get $end))))
    (return))
    (loop $absPairs
      (v128.store (local.get $out) (f64x2.abs (v128.load (local.get $x))))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $out (i32.add (local.get $out) (i32.const 16)))
      (br_if $absPairs (i32.lt_u (local.get $x) (local.get $end))))
    (return))
    (loop $reluPairs
      (v128.store (local.get $out)
        (f64x2.max (v128.load (local.get $x)) (v128.const f64x2 0 0)))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $out (i32.add (local.get $out) (i32.const 16)))
      (br_if $reluPairs (i32.lt_u (local.get $x) (local.get $end))))
    (return))
    (loop $sigmoidPairs
      (v128.store (local.get $out) (call $sigmoid (v128.load (local.get $x))))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $out (i32.add (local.get $out) (i32.const 16)))
      (br_if $sigmoidPairs (i32.lt_u (local.get $x) (local.get $end))))
    (return))
    (loop $softplusPairs
      (v128.store (local.get $out) (call $softplus (v128.load (local.get $x))))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $out (i32.add (local.get $out) (i32.const 16)))
      (br_if $softplusPairs (i32.lt_u (local.get $x) (local.get $end)))))

  ;; out[i] = the largest of row i of a (rows x cols), for maxCols in lib/_kernels.ts: four
  ;; running maxima of two lanes each over eight columns at a time (one would wait on
  ;; f64x2.max's long latency), then pairs, then the odd last column. f64x2.max is exact and
  ;; order-free (NaN wins, +0 beats -0), so this equals the TypeScript loop's Math.max.
  (func (export "maxCols") (param $a i32) (param $rows i32) (param $cols i32) (param $out i32)
    (local $i i32) (local $p i32) (local $end i32) (local $pairsEnd i32) (local $eightsEnd i32)
    (local $m0 v128) (local $m1 v128) (local $m2 v128) (local $m3 v128) (local $s f64)
    (if (i32.eqz (local.get $rows)) (then (return)))
    (loop $rowsLoop
      (local.set $p (i32.add (local.get $a)
        (i32.shl (i32.mul (local.get $i) (local.get $cols)) (i32.const 3))))
      (local.set $end (i32.add (local.get $p) (i32.shl (local.get $cols) (i32.const 3))))
      (local.set $pairsEnd (i32.add (local.get $p)
        (i32.shl (i32.and (local.get $cols) (i32.const -2)) (i32.const 3))))
      (local.set $eightsEnd (i32.add (local.get $p)
        (i32.shl (i32.and (local.get $cols) (i32.const -8)) (i32.const 3))))
      (local.set $m0 (v128.const f64x2 -inf -inf))
      (local.set $m1 (local.get $m0))
      (local.set $m2 (local.get $m0))
      (local.set $m3 (local.get $m0))
      (block $eightsDone
        (loop $eights
          (br_if $eightsDone (i32.ge_u (local.get $p) (local.get $eightsEnd)))
          (local.set $m0 (f64x2.max (local.get $m0) (v128.load offset=0 (local.get $p))))
          (local.set $m1 (f64x2.max (local.get $m1) (v128.load offset=16 (local.get $p))))
          (local.set $m2 (f64x2.max (local.get $m2) (v128.load offset=32 (local.get $p))))
          (local.set $m3 (f64x2.max (local.get $m3) (v128.load offset=48 (local.get $p))))
          (local.set $p (i32.add (local.get $p) (i32.const 64)))
          (br $eights)))
      (block $pairsDone
        (loop $pairs
          (br_if $pairsDone (i32.ge_u (local.get $p) (local.get $pairsEnd)))
          (local.set $m0 (f64x2.max (local.get $m0) (v128.load (local.get $p))))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (br $pairs)))
      (local.set $m0 (f64x2.max (f64x2.max (local.get $m0) (local.get $m1))
                                (f64x2.max (local.get $m2) (local.get $m3))))
      (local.set $s (f64.max (f64x2.extract_lane 0 (local.get $m0))
                             (f64x2.extract_lane 1 (local.get $m0))))
      (if (i32.lt_u (local.get $p) (local.get $end))
        (then (local.set $s (f64.max (local.get $s) (f64.load (local.get $p))))))
      (f64.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 3))) (local.get $s))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $rowsLoop (i32.lt_u (local.get $i) (local.get $rows)))))
)

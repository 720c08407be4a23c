# actfit plot template: InvAct.  The caller defines:
#   gfile (columns: y, g_left(y), g_right(y), g exact left, g exact right),
#   efile (columns: x, then per dtype fp32 fp16 bf16: |error of the fit|, |floor error|),
#   act, outfile, term, xmin, xmax
set terminal @TERM@
set output outfile
set multiplot layout 2,1 title sprintf("InvAct for %s: f'(x) = g_s(y) from y = f(x)", act) font ",14"
set key right bottom box opaque
set grid
set xlabel "y = f(x)"
set ylabel "g(y) = f'(f^{-1}(y))"
set lmargin 12
plot gfile using 1:2 with lines lw 3 lc rgb "#c0392b" title "g_{left}(y) (x < T), fitted", \
     gfile using 1:3 with lines lw 3 lc rgb "#2471a3" title "g_{right}(y) (x > T), fitted", \
     gfile every 40 using 1:4 with points pt 6 ps 0.8 lc rgb "black" title "exact f'(x) (every 40th)", \
     gfile every 40 using 1:5 with points pt 6 ps 0.8 lc rgb "black" notitle
set xlabel "x"
set ylabel "|g(round(y)) - f'(x)|"
set logscale y
set format y "10^{%L}"
set xrange [xmin:xmax]
set yrange [1e-10:1]
set key left top box opaque
plot efile using 1:2 with lines lw 1 lc rgb "#1e8449" title "fp32 fit", \
     efile using 1:3 with lines lw 2 dt 2 lc rgb "#0b5345" title "fp32 floor", \
     efile using 1:4 with lines lw 1 lc rgb "#b9770e" title "fp16 fit", \
     efile using 1:5 with lines lw 2 dt 2 lc rgb "#784212" title "fp16 floor", \
     efile using 1:6 with lines lw 1 lc rgb "#7d3c98" title "bf16 fit", \
     efile using 1:7 with lines lw 2 dt 2 lc rgb "#4a235a" title "bf16 floor"
unset multiplot

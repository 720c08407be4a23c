# actfit plot template: FewBit.  The caller defines:
#   datafile (columns: x, f'(x), then per table i: q_i(x), f'(x) - q_i(x), its weight's density),
#   ntables, array titles[ntables] (bits, weight and E of each table), array wnames[ntables],
#   array shade[ntables] (1: draw that table's weight density, the first of each non-uniform
#   weight), anyshade, wnote (the uniform weights, named in the key), act, outfile, term,
#   xmin, xmax
set terminal @TERM@
set output outfile
set multiplot layout 2,1 title sprintf("FewBit fits of f'(x) for %s", act) font ",14"
# both panels share the x positions: fixed margins, the right one room for the weight axis
set lmargin at screen 0.10
set rmargin at screen 0.88
array colors[8] = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#386cb0", "#a6761d", "#666666", "#e41a1c"]
set key left top box opaque
set grid
set xrange [xmin:xmax]
set ylabel "f'(x)"
plot datafile using 1:2 with lines lw 3 lc rgb "black" title "f'(x)", \
     for [i=1:ntables] datafile using 1:(column(3*i)) with steps lw 2 lc rgb colors[(i-1)%8+1] title titles[i]
set ylabel "f'(x) - q(x)"
set xlabel "x"
set y2label "weight density"
set y2tics
set ytics nomirror
set y2range [0:*]
# the curves' colours are the top panel's; this key names the weights
set key outside below center horizontal maxrows 2 title wnote
if (anyshade) {
  plot for [i=1:ntables] datafile using 1:(shade[i] ? column(3*i+2) : NaN) axes x1y2 \
         with filledcurves x1 fs transparent solid 0.12 noborder lc rgb colors[(i-1)%8+1] \
         title (shade[i] ? sprintf("weight %s (density)", wnames[i]) : ""), \
       for [i=1:ntables] datafile using 1:(column(3*i+1)) with lines lw 2 lc rgb colors[(i-1)%8+1] notitle
} else {
  unset y2label
  unset y2tics
  plot for [i=1:ntables] datafile using 1:(column(3*i+1)) with lines lw 2 lc rgb colors[(i-1)%8+1] notitle
}
unset multiplot

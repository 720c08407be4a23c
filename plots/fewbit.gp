# actfit plot template: FewBit.  The caller defines:
#   datafile (columns: x, f'(x), weight density, then q_i(x) and f'(x)-q_i(x) per table),
#   ntables, titles (space-separated words), act, outfile, term, xmin, xmax
set terminal @TERM@
set output outfile
set multiplot layout 2,1 title sprintf("FewBit fits of %s'(x)", act) font ",14"
set key left top box opaque
set grid
set xrange [xmin:xmax]
set ylabel "f'(x)"
set lmargin 12
plot datafile using 1:2 with lines lw 3 lc rgb "black" title "f'(x)", \
     for [i=1:ntables] datafile using 1:(column(3 + 2*i - 1)) with steps lw 2 title word(titles, i)
set ylabel "f'(x) - q(x)"
set xlabel "x"
set y2label "weight density"
set y2tics
set ytics nomirror
plot datafile using 1:3 axes x1y2 with filledcurves x1 fs transparent solid 0.15 noborder lc rgb "gray40" title "weight w(x)", \
     for [i=1:ntables] datafile using 1:(column(3 + 2*i)) with lines lw 2 title word(titles, i)
unset multiplot

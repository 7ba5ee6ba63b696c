// Chart.js with only the pieces the app draws (line and bar charts on category and linear
// scales, tooltips, legend, filled areas). Imported lazily by Chart.svelte, so none of it is in a
// route's initial JavaScript: the dashboard shows its numbers first and the charts a moment later.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';

Chart.register(BarController, BarElement, CategoryScale, Filler, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip);

export { Chart };

import './base.css';
import './table.css';
import './widgets.css';
import './dashboard.css';

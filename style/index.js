import './base.css';
import './widgets.css';
import './dashboard.css';
